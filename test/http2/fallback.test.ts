// http: 'auto' and '2' against servers that do and do not offer RFC 8441.
import { once } from 'node:events';
import * as http2 from 'node:http2';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import type { HandshakeError } from '../../lib/errors.js';
import { WebSocketServer } from '../../lib/server/server.js';
import { failure } from '../helpers/failure.js';
import { NO_OPENSSL, certificate, echoServer, nextMessage, trust } from './helpers.js';

const skip = certificate() === null ? NO_OPENSSL : false;
const base = { keepAliveInterval: 0 } as const;

t.test("'auto' against an HTTP/1.1-only wss server falls back on the same TLS connection", { skip }, async (t) => {
  const c = certificate()!;
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', tls: { key: c.key, cert: c.cert }, keepAliveInterval: 0 });
  server.on('connection', (ws) => ws.on('message', (d) => ws.send(d)));
  const { port } = await server.listen();
  t.teardown(() => server.close(500));
  const ws = await connect(`wss://127.0.0.1:${port}/`, { ...base, http: 'auto', tls: trust() });
  t.equal(ws.httpVersion, '1.1');
  ws.send('over 1.1');
  t.equal((await nextMessage(ws)).toString(), 'over 1.1');
  ws.close();
  await once(ws, 'close');
  const err = await failure<HandshakeError>(connect(`wss://127.0.0.1:${port}/`, { ...base, http: '2', tls: trust() }));
  t.equal(err.code, 'ERR_WS_H2_NOT_SUPPORTED', "'2' fails with a clear code");
  t.match(err.message, /does not speak HTTP\/2/);
});

t.test("'auto' against a wss server with http2: true uses HTTP/2; ws:// 'auto' stays on HTTP/1.1", { skip }, async (t) => {
  const { url } = await echoServer(t, {}, true);
  const ws = await connect(url, { ...base, http: 'auto', tls: trust() });
  t.equal(ws.httpVersion, '2');
  t.equal(ws.extensions, '');
  ws.close();
  await once(ws, 'close');
  const plain = await echoServer(t);
  const ws1 = await connect(plain.url, { ...base, http: 'auto' });
  t.equal(ws1.httpVersion, '1.1', 'no ALPN without TLS: HTTP/1.1');
  ws1.close();
  await once(ws1, 'close');
});

t.test("'2' against an HTTP/2 server whose SETTINGS do not enable the extended CONNECT", async (t) => {
  const app = http2.createServer();
  app.on('stream', (s) => s.respond({ ':status': 404 }, { endStream: true }));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  t.teardown(() => app.close());
  const port = (app.address() as { port: number }).port;
  const err = await failure<HandshakeError>(connect(`ws://127.0.0.1:${port}/`, { ...base, http: '2' }));
  t.equal(err.code, 'ERR_WS_H2_NOT_SUPPORTED');
  t.match(err.message, /SETTINGS_ENABLE_CONNECT_PROTOCOL/);
});

t.test("'2' (h2c prior knowledge) against an HTTP/1.1-only ws server", async (t) => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', keepAliveInterval: 0 });
  const { port } = await server.listen();
  t.teardown(() => server.close(500));
  const err = await failure<HandshakeError>(connect(`ws://127.0.0.1:${port}/`, { ...base, http: '2', handshakeTimeout: 3000 }));
  t.equal(err.code, 'ERR_WS_H2_NOT_SUPPORTED');
});

t.test("'auto' against a TLS HTTP/2 server without the setting falls back to a new HTTP/1.1 connection", { skip }, async (t) => {
  const c = certificate()!;
  const app = http2.createSecureServer({ key: c.key, cert: c.cert, allowHTTP1: true });
  const wss = new WebSocketServer({ keepAliveInterval: 0 });
  app.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  t.teardown(() => { void wss.close(500); app.close(); });
  const port = (app.address() as { port: number }).port;
  const ws = await connect(`wss://127.0.0.1:${port}/`, { ...base, http: 'auto', tls: trust() });
  t.equal(ws.httpVersion, '1.1');
  ws.close();
  await once(ws, 'close');
});

t.test("invalid http option", async (t) => {
  await t.rejects(connect('ws://127.0.0.1:1/', { http: '3' as never }), { code: 'ERR_WS_INVALID_ARGUMENT' });
});
