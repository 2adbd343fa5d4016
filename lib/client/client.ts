import type * as http2 from 'node:http2';
import * as net from 'node:net';
import type * as tls from 'node:tls'; // the module is loaded on first use (startup RSS: bench/RESULTS.md, "Streams analysis")
import type { HeadersOption } from './attempt.js';
import { abortError, abortPromise, checkSignal } from './abort.js';
import { acquireSession, openStream } from './h2.js';
import { openTunnel, resolveProxy, type ProxyOptions, type ProxyRoute } from './proxy.js';
import { followRedirects, type RedirectOptions } from './redirect.js';
import { checkSessionOptions, openOnSession } from './session.js';
import { settleOnce } from './settle.js';
import { openVia, type CreateConnection } from './stream.js';
import { HandshakeError, InvalidArgumentError } from '../errors.js';
import type { PerMessageDeflateOptions } from '../extensions/permessage-deflate.js';
import { parseWebSocketUrl, planClientRequest, type ClientRequestPlan } from '../handshake/client-request.js';
import { checkSwitchingResponse } from '../handshake/client-response.js';
import { deflateOptions } from '../handshake/extensions.js';
import { HeaderList } from '../http/headers.js';
import { CLIENT_HEAD_LIMITS, DEFAULT_HANDSHAKE_TIMEOUT, positiveInteger, resolveLimits, type HeadLimits } from '../http/limits.js';
import { resolveOptions, type ResolvedOptions, type WebSocketOptions } from '../options.js';
import { SocketTransport } from '../transport/socket.js';
import { WebSocket } from '../websocket.js';

/** Options of {@link connect}; the {@link WebSocketOptions} apply to the resulting connection. */
export interface ClientOptions extends WebSocketOptions, ProxyOptions, RedirectOptions {
  /** Subprotocols to offer, in preference order (HTTP tokens, unique). */
  protocols?: string[];
  /**
   * Extra request headers. Names must be tokens; values must not contain CR, LF or controls.
   * A function (sync or async) is called with the URL before each attempt, each redirect hop
   * included, so a token can be refreshed. After a redirect that left the origin (or went from
   * wss to ws), Authorization, Cookie and Proxy-Authorization are left out, function or not.
   */
  headers?: HeadersOption;
  /** Origin header to send (browsers always do; servers may check it). */
  origin?: string;
  /** Milliseconds for connect + TLS + the server's response head (default 10 000). */
  handshakeTimeout?: number;
  /** Offer permessage-deflate (RFC 7692). Default false. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Largest response head in bytes (default 16 KiB). */
  maxHeadSize?: number;
  /** Most response header fields (default 128). */
  maxHeaders?: number;
  /** Longest response header line in bytes (default 8 KiB). */
  maxHeaderLineLength?: number;
  /** wss:// only: passed to `tls.connect` (ca, cert, key, rejectUnauthorized, servername...). SNI defaults to the URL's host unless it is an IP. */
  tls?: tls.ConnectionOptions;
  /**
   * HTTP version of the handshake: '1.1' (default) an Upgrade on a connection
   * of its own; '2' an RFC 8441 extended CONNECT on a shared HTTP/2 session
   * (wss: ALPN h2; ws: h2c with prior knowledge), failing with
   * ERR_WS_H2_NOT_SUPPORTED when the server does not offer it; 'auto' HTTP/2
   * when a wss:// server selects h2 in ALPN and enables RFC 8441, HTTP/1.1
   * otherwise (ws:// URLs use HTTP/1.1: without ALPN there is nothing to ask).
   */
  http?: '1.1' | '2' | 'auto';
  /**
   * Supplies the byte stream of the HTTP/1.1 handshake instead of a TCP connection (an own
   * socket pool, a Unix socket, a tunnel). For wss:// the server's TLS runs over it with `tls`,
   * unless it is a TLSSocket already. HTTP/1.1 only; no proxy is used with it.
   */
  createConnection?: CreateConnection;
  /**
   * With `http: '2'`: run the WebSocket on this HTTP/2 session, which the application opened
   * (its TLS settings, its pool) and keeps: it stays open when the WebSocket closes. Cannot be
   * combined with `tls`, a proxy or `createConnection` (InvalidArgumentError): those were settled
   * when the session was opened.
   */
  session?: http2.ClientHttp2Session;
  /** Cancels the dial: aborting destroys the socket or stream being dialled (direct, through a
   *  proxy, or over HTTP/2) and rejects with a HandshakeError, code `ERR_WS_ABORTED`, name
   *  `AbortError`. No effect once connect() has resolved. */
  signal?: AbortSignal;
}

/**
 * Open a WebSocket connection (RFC 6455 §4.1) to a ws:// or wss:// URL
 * (http:// and https:// are accepted as synonyms). Resolves with an open
 * {@link WebSocket}.
 *
 * Rejects with InvalidArgumentError (bad URL, header, subprotocol: before
 * dialing) or HandshakeError whose `code` says what failed:
 * ERR_WS_CONNECT (network/TLS error, or closed before the answer; `cause` set),
 * ERR_WS_HANDSHAKE_TIMEOUT, ERR_WS_UPGRADE_STATUS (answered, but not with 101:
 * `status`, `headers` and up to 4 KiB of `body` are attached),
 * ERR_WS_RESPONSE_TOO_LARGE, ERR_WS_INVALID_RESPONSE, ERR_WS_INVALID_ACCEPT,
 * ERR_WS_PROTOCOL_MISMATCH, ERR_WS_EXTENSION_MISMATCH, ERR_WS_H2_NOT_SUPPORTED
 * (`http: '2'` and the server does not speak HTTP/2 or does not enable
 * RFC 8441 in its SETTINGS). Over HTTP/2 a refusal is ERR_WS_UPGRADE_STATUS
 * as well, with the response's `:status`, headers and body. A 3xx carries
 * `location`; with `followRedirects`, ERR_WS_TOO_MANY_REDIRECTS and
 * ERR_WS_INVALID_REDIRECT. Through a proxy, its failures are the
 * ERR_WS_PROXY_* codes of PROXY_ERROR_CODES (lib/errors.ts).
 */
export async function connect(url: string | URL, options: ClientOptions = {}): Promise<WebSocket> {
  const resolved = resolveOptions(options);
  const limits = resolveLimits(options, CLIENT_HEAD_LIMITS);
  const timeout =
    options.handshakeTimeout === undefined ? DEFAULT_HANDSHAKE_TIMEOUT : positiveInteger('handshakeTimeout', options.handshakeTimeout);
  const deflate = deflateOptions(options.perMessageDeflate);
  const mode = options.http ?? '1.1';
  if (mode !== '1.1' && mode !== '2' && mode !== 'auto') throw new InvalidArgumentError(`Option http must be '1.1', '2' or 'auto', not ${String(mode)}`);
  checkSessionOptions(options as Record<string, unknown>, mode);
  const signal = checkSignal(options.signal);
  if (signal?.aborted === true) throw abortError(String(url), signal);
  if (options.createConnection !== undefined && (typeof options.createConnection !== 'function' || mode !== '1.1')) {
    throw new InvalidArgumentError("Option createConnection must be a function and is for HTTP/1.1; for HTTP/2 pass a session with http: '2'");
  }
  // One attempt per redirect hop (lib/client/redirect.ts); each hop has the whole handshakeTimeout.
  return followRedirects(parseWebSocketUrl(url), options, async (target, headers, crossed) => {
    const plan = planClientRequest(target, { protocols: options.protocols, headers, origin: options.origin, deflate });
    if (options.session !== undefined) {
      // The session is bound to the origin it was opened for.
      if (crossed) throw new HandshakeError('ERR_WS_INVALID_REDIRECT', `Cannot follow a redirect to another origin (${target.href}) on the given HTTP/2 session`);
      return openOnSession(options.session, plan, resolved, Date.now() + timeout, signal);
    }
    const route = options.createConnection === undefined ? resolveProxy(plan.url, options, process.env, crossed) : null;
    if (mode === '1.1' || (mode === 'auto' && !plan.secure)) {
      if (route === null && options.createConnection === undefined) return dial(plan, options, resolved, limits, timeout);
      const deadline = Date.now() + timeout;
      const socket = await openVia(plan, route, options.createConnection, options.tls, limits, timeout, signal);
      return dial(plan, options, resolved, limits, Math.max(1, deadline - Date.now()), socket ?? undefined);
    }
    return dialHttp2(plan, options, resolved, limits, timeout, mode, route);
  });
}

/** RFC 8441: a stream on a shared session; with 'auto', HTTP/1.1 when the server does not offer it. */
async function dialHttp2(
  plan: ClientRequestPlan,
  options: ClientOptions,
  resolved: ResolvedOptions,
  limits: HeadLimits,
  timeout: number,
  mode: '2' | 'auto',
  route: ProxyRoute | null,
): Promise<WebSocket> {
  const deadline = Date.now() + timeout;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HandshakeError('ERR_WS_HANDSHAKE_TIMEOUT', `No HTTP/2 session with ${plan.url.href} within ${timeout} ms`)),
      timeout,
    );
  });
  const signal = options.signal;
  const tunnel = route === null ? undefined : () => openTunnel(route, plan.host, plan.port, limits, timeout, signal);
  const via = route === null ? undefined : `${route.url.href}|${JSON.stringify(route.fields)}`;
  const attempt = acquireSession(plan, { tls: options.tls, mode, tunnel, via });
  // A session that arrives after the deadline stays pooled (and idles out); an HTTP/1.1 socket is closed.
  attempt.then((o) => { if (o.kind === 'http1' && (Date.now() >= deadline || signal?.aborted === true)) o.socket.destroy(); }, () => {});
  // An abort while the (shared) session is being opened rejects at once; the session stays pooled.
  const aborted = abortPromise(signal, plan.url.href);
  let outcome;
  try {
    outcome = await Promise.race([attempt, expired, aborted.promise]);
  } finally {
    clearTimeout(timer);
    aborted.stop();
  }
  if (outcome.kind === 'h2') return openStream(outcome.entry, plan, resolved, deadline, signal);
  const left = Math.max(1, deadline - Date.now());
  if (outcome.kind === 'http1') return dial(plan, options, resolved, limits, left, outcome.socket);
  if (mode === 'auto' && route === null) return dial(plan, options, resolved, limits, left);
  if (mode === 'auto') return dial(plan, options, resolved, limits, left, (await openVia(plan, route, undefined, options.tls, limits, left, signal))!);
  throw new HandshakeError(
    'ERR_WS_H2_NOT_SUPPORTED',
    `Cannot open a WebSocket over HTTP/2 to ${plan.url.href}: ${outcome.message}. Use http: 'auto' or '1.1' for this server.`,
    {},
    outcome.cause === undefined ? undefined : { cause: outcome.cause },
  );
}

function dial(
  plan: ClientRequestPlan,
  options: ClientOptions,
  resolved: ResolvedOptions,
  limits: HeadLimits,
  timeout: number,
  connected?: net.Socket,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket =
      connected ??
      (plan.secure
        ? process.getBuiltinModule('node:tls').connect({ ...options.tls, host: plan.host, port: plan.port, servername: options.tls?.servername ?? plan.servername })
        : net.connect({ host: plan.host, port: plan.port }));
    const stage = settleOnce({
      reject,
      release: () => socket.destroy(),
      signal: options.signal,
      href: plan.url.href,
      timeout,
      expired: () => new HandshakeError('ERR_WS_HANDSHAKE_TIMEOUT', `No WebSocket handshake response from ${plan.url.href} within ${timeout} ms`),
    });
    const fail = stage.fail;
    const onError = (err: Error): void => {
      fail(new HandshakeError('ERR_WS_CONNECT', `Could not connect to ${plan.url.href}: ${err.message}`, {}, { cause: err }));
    };
    socket.on('error', onError);
    socket.write(plan.request);

    const invalid = { tooLarge: 'ERR_WS_RESPONSE_TOO_LARGE', malformed: 'ERR_WS_INVALID_RESPONSE', message: `Invalid handshake response from ${plan.url.href}` };
    stage.readAnswer(socket, limits, invalid, onError, (head, rest) => {
      const headers = new HeaderList(head.headers);
      if (head.status !== 101) {
        return stage.refuse(socket, onError, head, headers, rest, (text, details) =>
          new HandshakeError('ERR_WS_UPGRADE_STATUS', `The server refused the WebSocket upgrade with ${head.status}${text ? ` ${text}` : ''} (expected 101)`, details),
        );
      }
      let accepted;
      try {
        accepted = checkSwitchingResponse(head, headers, plan, resolved.maxPayload);
      } catch (e) {
        return fail(e as HandshakeError);
      }
      stage.succeed();
      socket.off('error', onError);
      resolve(
        new WebSocket({
          role: 'client',
          transport: new SocketTransport(socket),
          head: rest,
          protocol: accepted.protocol,
          extensions: accepted.extensions.header,
          transform: accepted.extensions.transform,
          url: plan.url.href,
          handshake: { status: head.status, statusText: head.statusText, headers: headers.toRecord(), rawHeaders: headers.toRaw() },
          options: resolved,
        }),
      );
    });
  });
}
