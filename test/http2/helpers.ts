// Shared pieces of the RFC 8441 tests: a certificate, servers on 127.0.0.1, a raw HTTP/2 peer.
import { once } from 'node:events';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { WebSocketServer, type ServerOptions } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';
import { caSignedCert, selfSignedCert } from '../helpers/tls.js';

export type Test = Parameters<Parameters<typeof import('tap').test>[0]>[0];

let cert: { key: Buffer; cert: Buffer } | null | undefined;
/** One self-signed certificate per test process (openssl), or null when openssl is missing. */
export function certificate(): { key: Buffer; cert: Buffer } | null {
  if (cert === undefined) cert = selfSignedCert();
  return cert;
}

let chain: { ca: Buffer; key: Buffer; cert: Buffer } | null | undefined;
/** A test CA and a server certificate signed by it (openssl), for peers that verify a chain; null when openssl is missing. */
export function caCertificate(): { ca: Buffer; key: Buffer; cert: Buffer } | null {
  if (chain === undefined) chain = caSignedCert();
  return chain;
}

export const NO_OPENSSL = 'openssl is not available to make a test certificate';

/** A standalone echo server with `http2: true` (TLS when `secure`), closed at teardown. */
export async function echoServer(t: Test, options: ServerOptions = {}, secure = false): Promise<{ server: WebSocketServer; port: number; url: string }> {
  const c = secure ? certificate() : null;
  const server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    http2: true,
    keepAliveInterval: 0,
    ...(c === null ? {} : { tls: { key: c.key, cert: c.cert } }),
    ...options,
  });
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const { port } = await server.listen();
  t.teardown(() => server.close(500));
  return { server, port, url: `${secure ? 'wss' : 'ws'}://127.0.0.1:${port}/` };
}

/** Client TLS options trusting the test certificate. */
export function trust(): { ca: Buffer } {
  return { ca: certificate()!.cert };
}

/** Resolves with the next message's data. */
export function nextMessage(ws: WebSocket): Promise<Buffer> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(data)));
}

/** Resolves with the close event's arguments. */
export function closeOf(ws: WebSocket): Promise<{ code: number; reason: string; wasClean: boolean }> {
  return new Promise((resolve) => ws.once('close', (code, reason, wasClean) => resolve({ code, reason, wasClean })));
}

/** A raw node:http2 client session (h2c) that has received the server's SETTINGS. */
export async function rawSession(t: Test, port: number): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  t.teardown(() => session.destroy());
  await once(session, 'remoteSettings');
  return session;
}

/** The request headers of a well-formed extended CONNECT, with `extra` merged in (null removes a field). */
export function connectHeaders(extra: Record<string, string | null> = {}): http2.OutgoingHttpHeaders {
  const h: Record<string, string> = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'http',
    ':path': '/',
    ':authority': '127.0.0.1',
    'sec-websocket-version': '13',
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v === null) delete h[k];
    else h[k] = v;
  }
  return h;
}

/** Send a request on a raw session; resolve with the response status, headers and body (or the reset code). */
export function exchangeStream(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
): Promise<{ status: number | undefined; headers: http2.IncomingHttpHeaders; body: string; rstCode: number | undefined }> {
  return new Promise((resolve) => {
    const stream = session.request(headers, { endStream: false });
    let status: number | undefined;
    let resHeaders: http2.IncomingHttpHeaders = {};
    const parts: Buffer[] = [];
    stream.on('response', (h) => {
      status = Number(h[':status']);
      resHeaders = h;
    });
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('error', () => {});
    stream.on('end', () => stream.close());
    stream.on('close', () => resolve({ status, headers: resHeaders, body: Buffer.concat(parts).toString(), rstCode: stream.rstCode }));
  });
}

/** Raw bytes on TCP, for what node:http2's client refuses to send: the preface, SETTINGS, and HEADERS with literal fields. */
export function h2Frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK header block of literal fields without indexing, no Huffman coding (RFC 7541 §6.2.2); short names and values only. */
export function hpackLiterals(fields: Array<[string, string]>): Buffer {
  return Buffer.concat(
    fields.map(([n, v]) => {
      const name = Buffer.from(n);
      const value = Buffer.from(v);
      if (name.length > 126 || value.length > 126) throw new Error('short fields only');
      return Buffer.concat([Buffer.from([0, name.length]), name, Buffer.from([value.length]), value]);
    }),
  );
}

/** The frames a raw peer received: type, flags, stream id, payload. */
export function parseFrames(buf: Buffer): Array<{ type: number; flags: number; stream: number; payload: Buffer }> {
  const out = [];
  let pos = 0;
  while (pos + 9 <= buf.length) {
    const len = buf.readUIntBE(pos, 3);
    if (pos + 9 + len > buf.length) break;
    out.push({ type: buf[pos + 3]!, flags: buf[pos + 4]!, stream: buf.readUInt32BE(pos + 5) & 0x7fffffff, payload: buf.subarray(pos + 9, pos + 9 + len) });
    pos += 9 + len;
  }
  return out;
}

/** Open a TCP connection. */
export async function tcp(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

/** Poll `predicate` every few ms until it holds (bounded by the test's own timeout). */
export async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setTimeout(r, 5));
}
