/**
 * Dialling WebSockets over HTTP/2 (RFC 8441): one session per origin (and
 * TLS options object), shared by every WebSocket to that origin, each on its
 * own extended CONNECT stream. The session is closed once its last
 * WebSocket closed and {@link H2_SESSION_IDLE} ms passed without a new one.
 */
import { settleOnce } from './settle.js';
import type * as http2 from 'node:http2'; // the module is loaded on first use (startup RSS: bench/RESULTS.md, "Streams analysis")
import * as net from 'node:net';
import type * as tls from 'node:tls'; // the module is loaded on first use (startup RSS: bench/RESULTS.md, "Streams analysis")
import { HandshakeError } from '../errors.js';
import type { ClientRequestPlan } from '../handshake/client-request.js';
import { checkHttp2Response } from '../handshake/client-response.js';
import type { HeaderField } from '../http/head-parser.js';
import { HeaderList } from '../http/headers.js';
import { ERROR_BODY_TIMEOUT, MAX_ERROR_BODY } from '../http/limits.js';
import type { ResolvedOptions } from '../options.js';
import { Http2StreamTransport } from '../transport/http2.js';
import { WebSocket } from '../websocket.js';

/** Milliseconds a pooled HTTP/2 session stays open after its last WebSocket closed. */
export const H2_SESSION_IDLE = 1_000;

/** How an HTTP/2 session attempt ended. */
export type SessionOutcome =
  | { kind: 'h2'; entry: PooledSession }
  /** ALPN chose HTTP/1.1 (mode 'auto'): this TLS socket is connected and unused, for the HTTP/1.1 handshake. */
  | { kind: 'http1'; socket: tls.TLSSocket }
  /** The server does not speak HTTP/2 or does not enable RFC 8441; nothing is left open. */
  | { kind: 'unsupported'; message: string; cause?: unknown };

/** One shared session. */
export interface PooledSession {
  readonly key: string;
  readonly session: http2.ClientHttp2Session;
  streams: number;
  idle: NodeJS.Timeout | null;
  /** The application's session (connect()'s `session`): never pooled, ref'd, unref'd or closed here. */
  external?: boolean;
}

export interface Http2DialOptions {
  tls?: tls.ConnectionOptions;
  /** '2' offers only h2 in ALPN; 'auto' offers h2 and http/1.1. */
  mode: '2' | 'auto';
  /** Opens a tunnel to the server through a proxy (lib/client/proxy.ts) instead of dialing it. */
  tunnel?: () => Promise<net.Socket>;
  /** Identifies the tunnel's proxy and its CONNECT fields, for the pool key: sessions through different proxies are not shared. */
  via?: string;
}

const pool = new Map<string, PooledSession>();
const pendingSessions = new Map<string, Promise<SessionOutcome>>();
const tlsIds = new WeakMap<object, number>();
let nextTlsId = 1;

/** Sessions currently pooled (for tests and metrics). */
export function pooledSessionCount(): number {
  return pool.size;
}

/**
 * Sessions are shared between connects whose TLS options are the same: equal
 * primitive values and the very same objects (a `ca` Buffer read once and
 * reused shares; two reads of the same file do not, which is only a missed
 * sharing, never a wrong one).
 */
function poolKey(plan: ClientRequestPlan, tlsOptions: tls.ConnectionOptions | undefined): string {
  let key = `${plan.secure ? 'https' : 'http'}|${plan.host}|${plan.port}`;
  if (!plan.secure || tlsOptions === undefined) return key;
  for (const name of Object.keys(tlsOptions).sort()) {
    const value = (tlsOptions as Record<string, unknown>)[name];
    if (value === undefined) continue;
    if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
      let id = tlsIds.get(value);
      if (id === undefined) tlsIds.set(value, (id = nextTlsId++));
      key += `|${name}=#${id}`;
    } else {
      key += `|${name}=${JSON.stringify(value)}`;
    }
  }
  return key;
}

/**
 * A session for `plan`'s origin that enables the extended CONNECT: a pooled
 * one, one being set up by a concurrent call, or a new one. `signal` aborts
 * the attempt (the caller's handshake deadline).
 */
export function acquireSession(plan: ClientRequestPlan, options: Http2DialOptions): Promise<SessionOutcome> {
  const key = options.via === undefined ? poolKey(plan, options.tls) : `${poolKey(plan, options.tls)}|via=${options.via}`;
  const entry = pool.get(key);
  if (entry !== undefined && !entry.session.closed && !entry.session.destroyed) return Promise.resolve({ kind: 'h2', entry });
  const pending = pendingSessions.get(key);
  if (pending !== undefined) {
    // A concurrent attempt's HTTP/1.1 socket is its own: others dial again.
    return pending.then((o) => (o.kind === 'http1' ? { kind: 'unsupported', message: 'the server chose HTTP/1.1 in ALPN' } : o));
  }
  const attempt = openSession(key, plan, options).finally(() => pendingSessions.delete(key));
  pendingSessions.set(key, attempt);
  return attempt;
}

function openSession(key: string, plan: ClientRequestPlan, options: Http2DialOptions): Promise<SessionOutcome> {
  return new Promise((resolve, reject) => {
    const alpn = options.mode === '2' ? ['h2'] : ['h2', 'http/1.1'];
    const tlsOver = (socket?: net.Socket): tls.TLSSocket =>
      process.getBuiltinModule('node:tls').connect({
        ...options.tls,
        ...(socket === undefined ? { port: plan.port } : { socket }),
        host: plan.host,
        servername: options.tls?.servername ?? plan.servername,
        ALPNProtocols: alpn,
      });
    const onSocket = (socket: net.Socket, connected: boolean): void => {
      const onSocketError = (err: Error): void => {
        socket.destroy();
        reject(new HandshakeError('ERR_WS_CONNECT', `Could not connect to ${plan.url.href}: ${err.message}`, {}, { cause: err }));
      };
      const ready = (): void => {
        socket.off('error', onSocketError);
        if (plan.secure) {
          const alpn = (socket as tls.TLSSocket).alpnProtocol;
          if (alpn !== 'h2') {
            if (options.mode === 'auto') return resolve({ kind: 'http1', socket: socket as tls.TLSSocket });
            socket.destroy();
            return resolve({ kind: 'unsupported', message: `the server does not speak HTTP/2 (ALPN: ${alpn || 'none'})` });
          }
        }
        startSession(key, plan, socket, resolve);
      };
      socket.once('error', onSocketError);
      if (connected) ready();
      else socket.once(plan.secure ? 'secureConnect' : 'connect', ready);
    };
    if (options.tunnel === undefined) {
      onSocket(plan.secure ? tlsOver() : net.connect({ host: plan.host, port: plan.port }), false);
      return;
    }
    // Through a proxy: the tunnel is a connected socket; the server's TLS (if any) runs inside it.
    options.tunnel().then((raw) => onSocket(plan.secure ? tlsOver(raw) : raw, !plan.secure), reject);
  });
}

function startSession(key: string, plan: ClientRequestPlan, socket: net.Socket, resolve: (o: SessionOutcome) => void): void {
  const origin = `${plan.secure ? 'https' : 'http'}://${plan.url.host}`;
  const session = process.getBuiltinModule('node:http2').connect(origin, { createConnection: () => socket, settings: { enablePush: false } });
  let settled = false;
  const unsupported = (message: string, cause?: unknown): void => {
    if (settled) return;
    settled = true;
    session.destroy();
    socket.destroy();
    resolve({ kind: 'unsupported', message, cause });
  };
  session.on('error', (err) => unsupported(`no HTTP/2 session: ${err.message}`, err));
  session.once('close', () => unsupported('the connection closed before the server sent its HTTP/2 SETTINGS'));
  session.once('remoteSettings', (settings) => {
    if (settled) return;
    if (settings.enableConnectProtocol !== true) {
      return unsupported("the server's HTTP/2 SETTINGS do not enable the extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441 §3)");
    }
    settled = true;
    const entry: PooledSession = { key, session, streams: 0, idle: null };
    const forget = (): void => {
      if (pool.get(key) === entry) pool.delete(key);
    };
    // GOAWAY: streams in flight finish, new WebSockets go to a new session.
    session.once('goaway', () => {
      forget();
      if (entry.streams === 0) session.close();
    });
    session.once('close', forget);
    pool.set(key, entry);
    resolve({ kind: 'h2', entry });
  });
}

function streamOpened(entry: PooledSession): void {
  entry.streams++;
  if (entry.external) return;
  if (entry.idle !== null) {
    clearTimeout(entry.idle);
    entry.idle = null;
  }
  entry.session.ref();
}

function streamClosed(entry: PooledSession): void {
  entry.streams--;
  if (entry.external || entry.streams > 0 || entry.session.closed || entry.session.destroyed) return;
  // An idle session does not keep the process alive.
  entry.session.unref();
  entry.idle = setTimeout(() => {
    entry.idle = null;
    if (entry.streams === 0) {
      if (pool.get(entry.key) === entry) pool.delete(entry.key);
      entry.session.close();
    }
  }, H2_SESSION_IDLE);
  entry.idle.unref();
}

/** Fields the HTTP/2 request does not carry: Host becomes `:authority`; the rest are HTTP/1.1's (RFC 9113 §8.2.2, RFC 8441 §5). */
const NOT_IN_H2 = new Set(['host', 'upgrade', 'connection', 'sec-websocket-key', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te']);

/**
 * Open one WebSocket on `entry`'s session: an extended CONNECT with the
 * plan's fields, checked like an HTTP/1.1 101 (subprotocol, extensions).
 * `deadline` is the epoch ms at which the handshake times out.
 */
export function openStream(entry: PooledSession, plan: ClientRequestPlan, resolved: ResolvedOptions, deadline: number, signal?: AbortSignal): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    let authority = plan.url.host;
    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': plan.secure ? 'https' : 'http',
      ':path': `${plan.url.pathname}${plan.url.search}`,
    };
    for (const [name, value] of plan.fields) {
      const lower = name.toLowerCase();
      if (lower === 'host') authority = value;
      if (NOT_IN_H2.has(lower)) continue;
      headers[lower] = value;
    }
    headers[':authority'] = authority;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = entry.session.request(headers, { endStream: false });
    } catch (err) {
      return reject(new HandshakeError('ERR_WS_CONNECT', `Could not open an HTTP/2 stream to ${plan.url.href}: ${(err as Error).message}`, {}, { cause: err }));
    }
    streamOpened(entry);
    stream.once('close', () => streamClosed(entry));
    let responded = false;
    const stage = settleOnce({
      reject,
      release: () => {
        if (!stream.destroyed) stream.close(process.getBuiltinModule('node:http2').constants.NGHTTP2_CANCEL);
      },
      signal,
      href: plan.url.href,
      timeout: Math.max(0, deadline - Date.now()),
      expired: () => new HandshakeError('ERR_WS_HANDSHAKE_TIMEOUT', `No WebSocket handshake response from ${plan.url.href} within the handshake timeout`),
    });
    const fail = stage.fail;
    stream.on('error', () => {});
    stream.once('close', () => {
      if (responded) return;
      const code = stream.rstCode;
      const why = code === process.getBuiltinModule('node:http2').constants.NGHTTP2_REFUSED_STREAM ? ' (REFUSED_STREAM: not processed, safe to retry)' : code ? ` (code ${code})` : '';
      fail(new HandshakeError('ERR_WS_CONNECT', `The HTTP/2 stream to ${plan.url.href} closed before the server answered${why}`));
    });
    stream.once('response', (raw) => {
      if (stage.settled) return;
      responded = true;
      const status = Number(raw[':status']);
      const list = responseFields(raw);
      if (status < 200 || status > 299) return refused(status, list);
      let accepted;
      try {
        accepted = checkHttp2Response(status, list, plan, resolved.maxPayload);
      } catch (e) {
        return fail(e as HandshakeError);
      }
      stage.succeed();
      stream.pause();
      resolve(
        new WebSocket({
          role: 'client',
          transport: new Http2StreamTransport(stream, 'client'),
          head: EMPTY,
          protocol: accepted.protocol,
          extensions: accepted.extensions.header,
          transform: accepted.extensions.transform,
          url: plan.url.href,
          options: resolved,
          httpVersion: '2',
          handshake: { status, statusText: '', headers: list.toRecord(), rawHeaders: list.toRaw() },
        }),
      );
    });

    // A refusal: keep the status and headers and read the start of the body, as over HTTP/1.1.
    const refused = (status: number, list: HeaderList): void => {
      stage.stopDeadline();
      const parts: Buffer[] = [];
      let length = 0;
      const finish = (): void => {
        clearTimeout(bodyTimer);
        const body = Buffer.concat(parts, length).subarray(0, MAX_ERROR_BODY);
        fail(
          new HandshakeError('ERR_WS_UPGRADE_STATUS', `The server refused the WebSocket (HTTP/2 :status ${status}, expected 200)`, {
            status,
            headers: list.toRecord(),
            rawHeaders: list.toRaw(),
            body,
          }),
        );
      };
      const bodyTimer = setTimeout(finish, ERROR_BODY_TIMEOUT);
      stream.on('data', (chunk: Buffer) => {
        parts.push(chunk);
        length += chunk.length;
        if (length >= MAX_ERROR_BODY) finish();
      });
      stream.once('end', finish);
      stream.once('close', finish);
    };
  });
}

/** The regular fields of a response header block, repeats kept. */
function responseFields(raw: http2.IncomingHttpHeaders): HeaderList {
  const fields: HeaderField[] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (name.startsWith(':') || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) fields.push([name, v]);
    else fields.push([name, String(value)]);
  }
  return new HeaderList(fields);
}

const EMPTY = Buffer.alloc(0);
