/**
 * A WebSocket on an HTTP/2 session the application owns (connect()'s
 * `session`, with `http: '2'`): an RFC 8441 stream on it, like on a pooled
 * session, but the session is neither pooled nor closed here; it stays the
 * application's, open after the WebSocket closed.
 */
import type * as http2 from 'node:http2';
import { openStream, type PooledSession } from './h2.js';
import { HandshakeError, InvalidArgumentError } from '../errors.js';
import type { ClientRequestPlan } from '../handshake/client-request.js';
import type { ResolvedOptions } from '../options.js';
import type { WebSocket } from '../websocket.js';

/** Options that choose how connect() reaches the server itself, so they cannot go with a supplied session. */
const NOT_WITH_SESSION = ['tls', 'proxy', 'proxyHeaders', 'proxyTls', 'createConnection'] as const;

/**
 * Throw InvalidArgumentError when `session` comes with options it makes
 * meaningless: the session's TLS (certificate checks, CA, client
 * certificate) and route were settled when the application opened it.
 */
export function checkSessionOptions(options: Record<string, unknown>, mode: string): void {
  if (options.session === undefined) return;
  const s = options.session as http2.ClientHttp2Session;
  if (s === null || typeof s !== 'object' || typeof s.request !== 'function') {
    throw new InvalidArgumentError('Option session must be an http2 ClientHttp2Session (http2.connect())');
  }
  if (mode !== '2') throw new InvalidArgumentError("Option session runs the WebSocket over HTTP/2: it needs http: '2'");
  for (const name of NOT_WITH_SESSION) {
    if (options[name] !== undefined && !(name === 'proxy' && options[name] === false)) {
      throw new InvalidArgumentError(
        `Options session and ${name} cannot be combined: the session's connection and TLS (certificate checks, CA, client certificate) were set when it was opened; pass them to http2.connect() instead`,
      );
    }
  }
}

/** Open the WebSocket on `session`, after checking that its server enables the extended CONNECT. */
export async function openOnSession(session: http2.ClientHttp2Session, plan: ClientRequestPlan, resolved: ResolvedOptions, deadline: number, signal?: AbortSignal): Promise<WebSocket> {
  if (session.closed || session.destroyed) {
    throw new HandshakeError('ERR_WS_CONNECT', `The HTTP/2 session given for ${plan.url.href} is closed`);
  }
  if (session.remoteSettings.enableConnectProtocol !== true) await settingsReceived(session, plan, deadline);
  if (session.remoteSettings.enableConnectProtocol !== true) {
    throw new HandshakeError(
      'ERR_WS_H2_NOT_SUPPORTED',
      `Cannot open a WebSocket on the given HTTP/2 session to ${plan.url.href}: the server's SETTINGS do not enable the extended CONNECT (RFC 8441 §3)`,
    );
  }
  const entry: PooledSession = { key: '', session, streams: 0, idle: null, external: true };
  return openStream(entry, plan, resolved, deadline, signal);
}

/**
 * Wait until the server's first SETTINGS surely arrived: a PING's ACK comes
 * after it (the SETTINGS frame is the server's connection preface, RFC 9113
 * §3.4), so a session whose settings never enable RFC 8441 fails at once
 * rather than at the deadline.
 */
function settingsReceived(session: http2.ClientHttp2Session, plan: ClientRequestPlan, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      session.off('remoteSettings', done);
      reject(new HandshakeError('ERR_WS_HANDSHAKE_TIMEOUT', `No SETTINGS from the server of the given HTTP/2 session (${plan.url.href}) within the handshake timeout`));
    }, Math.max(0, deadline - Date.now()));
    function done(): void {
      clearTimeout(timer);
      session.off('remoteSettings', done);
      resolve();
    }
    session.once('remoteSettings', done);
    const ping = (): void => {
      if (!session.ping(() => done())) done();
    };
    if (session.connecting) session.once('connect', ping);
    else ping();
  });
}
