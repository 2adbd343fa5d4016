/**
 * The byte stream of an HTTP/1.1 handshake when it is not a plain TCP or TLS
 * connection of connect()'s own: a tunnel through a proxy, or a stream the
 * application supplies (`createConnection`). For wss:// the server's TLS runs
 * over that stream, with the `tls` options, unless the application's stream
 * is a TLSSocket already.
 */
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type * as tls from 'node:tls'; // the module is loaded on first use (startup RSS: bench/RESULTS.md, "Streams analysis")
import { HandshakeError } from '../errors.js';
import type { ClientRequestPlan } from '../handshake/client-request.js';
import type { HeadLimits } from '../http/limits.js';
import { openTunnel, type ProxyRoute } from './proxy.js';

/** Supplies the byte stream of one connection (an own socket pool, a Unix socket, a tunnel). */
export type CreateConnection = (url: URL, options: { host: string; port: number; secure: boolean }) => Duplex | Promise<Duplex>;

/**
 * The stream to speak the handshake on, or null when connect() dials the
 * server itself. `timeout` bounds the proxy's answer; the handshake's own
 * deadline starts once this resolved.
 */
export async function openVia(
  plan: ClientRequestPlan,
  route: ProxyRoute | null,
  createConnection: CreateConnection | undefined,
  tlsOptions: tls.ConnectionOptions | undefined,
  limits: HeadLimits,
  timeout: number,
  signal?: AbortSignal,
): Promise<net.Socket | null> {
  let stream: Duplex;
  if (createConnection !== undefined) {
    stream = await supplied(createConnection, plan, timeout);
    if (stream === null || typeof stream !== 'object' || typeof stream.write !== 'function' || typeof stream.on !== 'function') {
      throw new HandshakeError('ERR_WS_CONNECT', `createConnection must return a Duplex stream (or a promise of one) for ${plan.url.href}`);
    }
    if (!plan.secure || stream instanceof process.getBuiltinModule('node:tls').TLSSocket) return stream as net.Socket;
  } else if (route !== null) {
    stream = await openTunnel(route, plan.host, plan.port, limits, timeout, signal);
    if (!plan.secure) return stream as net.Socket;
  } else {
    return null;
  }
  // host: what the certificate is checked against when there is no SNI name (an IP address).
  return process.getBuiltinModule('node:tls').connect({ ...tlsOptions, socket: stream, host: plan.host, servername: tlsOptions?.servername ?? plan.servername });
}

/** The application's stream, within `timeout` ms (one that comes later is destroyed). */
async function supplied(createConnection: CreateConnection, plan: ClientRequestPlan, timeout: number): Promise<Duplex> {
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      reject(new HandshakeError('ERR_WS_HANDSHAKE_TIMEOUT', `createConnection gave no stream for ${plan.url.href} within ${timeout} ms`));
    }, timeout);
  });
  const made = (async () => createConnection(plan.url, { host: plan.host, port: plan.port, secure: plan.secure }))();
  made.then((s) => { if (late) s?.destroy?.(); }, () => {});
  try {
    return await Promise.race([made, expired]);
  } catch (err) {
    if (err instanceof HandshakeError) throw err;
    throw new HandshakeError('ERR_WS_CONNECT', `createConnection failed for ${plan.url.href}: ${(err as Error)?.message ?? String(err)}`, {}, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
