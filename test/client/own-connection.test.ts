// Issue 15, upgrade response details and bringing your own connection: ws.handshake and
// releaseHandshake(), createConnection (a socket, a Unix socket, TLS over a supplied stream),
// an application-owned HTTP/2 session.
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { H2_SESSION_IDLE } from '../../lib/client/h2.js';
import type { HandshakeError } from '../../lib/errors.js';
import { WebSocketServer } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';
import { failure as failureOf } from '../helpers/failure.js';
import { switchingProtocols } from '../helpers/http.js';
import { scriptedServer } from '../helpers/raw-server.js';
import { certificate, closeOf, echoServer, nextMessage, NO_OPENSSL, trust } from '../http2/helpers.js';
const failure = (p: Promise<unknown>): Promise<HandshakeError> => failureOf<HandshakeError>(p);

type Test = Parameters<Parameters<typeof t.test>[0]>[0];
const base = { keepAliveInterval: 0, proxy: false as const };

async function echo(t: Test, ws: WebSocket, text: string): Promise<void> {
  ws.send(text);
  t.equal(String(await nextMessage(ws)), text, `echo ${text}`);
}

t.test('ws.handshake keeps the 101 (status, headers, raw headers) until releaseHandshake()', async (t) => {
  const server = await scriptedServer(t, (s, _h, key) => s.write(switchingProtocols(key, 'X-Server: a\r\nSet-Cookie: x=1\r\nSet-Cookie: y=2\r\n')));
  const ws = await connect(server.url, base);
  t.teardown(() => ws.terminate());
  t.equal(ws.handshake?.status, 101);
  t.equal(ws.handshake?.statusText, 'Switching Protocols');
  t.equal(ws.handshake?.headers['x-server'], 'a');
  t.same(ws.handshake?.rawHeaders.slice(-6), ['X-Server', 'a', 'Set-Cookie', 'x=1', 'Set-Cookie', 'y=2']);
  ws.releaseHandshake();
  t.equal(ws.handshake, undefined, 'released');
  ws.releaseHandshake();
  t.equal(ws.handshake, undefined, 'twice is harmless');
});

t.test('over HTTP/2 the 200 likewise', async (t) => {
  const { url } = await echoServer(t);
  const ws = await connect(url, { ...base, http: '2' });
  t.equal(ws.handshake?.status, 200);
  t.type(ws.handshake?.headers, 'object');
  ws.releaseHandshake();
  t.equal(ws.handshake, undefined);
  ws.close();
  await once(ws, 'close');
});

t.test('createConnection: a socket of the application, sync or async, told the URL and its host/port', async (t) => {
  const { port, url } = await echoServer(t);
  const calls: unknown[] = [];
  const ws = await connect(`ws://example.invalid:${port}/x`, {
    ...base,
    createConnection: (u, o) => {
      calls.push([u.href, o]);
      return net.connect({ host: '127.0.0.1', port });
    },
  });
  t.same(calls, [[`ws://example.invalid:${port}/x`, { host: 'example.invalid', port, secure: false }]]);
  await echo(t, ws, 'own socket');
  ws.close();
  const later = await connect(url, { ...base, createConnection: async () => {
    const s = net.connect({ host: '127.0.0.1', port });
    await once(s, 'connect');
    return s;
  } });
  await echo(t, later, 'async');
  later.close();
});

t.test('createConnection: a Unix socket', { skip: process.platform === 'win32' && 'no Unix sockets' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rfcws-unix-'));
  const path = join(dir, 'ws.sock');
  const wss = new WebSocketServer({ keepAliveInterval: 0 });
  wss.on('connection', (ws: WebSocket) => ws.on('message', (d) => ws.send(d)));
  const server = http.createServer();
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => server.listen(path, r));
  t.teardown(async () => {
    await wss.close(100);
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ws = await connect('ws://localhost/unix', { ...base, createConnection: () => net.connect({ path }) });
  await echo(t, ws, 'over a Unix socket');
  ws.close();
  await once(ws, 'close');
});

t.test('createConnection for wss://: TLS runs over the supplied stream, with tls (checkServerIdentity) per connection', { skip: certificate() === null && NO_OPENSSL }, async (t) => {
  const { port } = await echoServer(t, {}, true);
  const checked: string[] = [];
  const ws = await connect(`wss://localhost:${port}/`, {
    ...base,
    tls: {
      ...trust(),
      checkServerIdentity: (host, cert) => {
        checked.push(host);
        return tls.checkServerIdentity(host, cert);
      },
    },
    createConnection: () => net.connect({ host: '127.0.0.1', port }),
  });
  t.same(checked, ['localhost']);
  t.ok(ws.tls?.authorized);
  await echo(t, ws, 'tls over own stream');
  ws.close();
  const untrusted = await failure(connect(`wss://localhost:${port}/`, { ...base, createConnection: () => net.connect({ host: '127.0.0.1', port }) }));
  t.equal(untrusted.code, 'ERR_WS_CONNECT', 'the certificate is still checked');
  const already = await connect(`wss://localhost:${port}/`, {
    ...base,
    createConnection: () => tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...trust() }),
  });
  await echo(t, already, 'a TLSSocket is used as it is');
  already.close();
});

t.test('createConnection failures and misuse', async (t) => {
  const { url } = await echoServer(t);
  const thrown = await failure(connect(url, { ...base, createConnection: () => { throw new Error('pool exhausted'); } }));
  t.equal(thrown.code, 'ERR_WS_CONNECT');
  t.match(thrown.message, /createConnection failed .*pool exhausted/);
  t.equal((thrown.cause as Error).message, 'pool exhausted');
  const notStream = await failure(connect(url, { ...base, createConnection: (() => 42) as never }));
  t.equal(notStream.code, 'ERR_WS_CONNECT');
  t.match(notStream.message, /must return a Duplex/);
  await t.rejects(connect(url, { ...base, http: '2', createConnection: () => net.connect(1) }), { code: 'ERR_WS_INVALID_ARGUMENT' });
});

t.test("session: two WebSockets on the application's HTTP/2 session; closing one leaves the session open and usable", async (t) => {
  const { port, url } = await echoServer(t);
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  t.teardown(() => session.destroy());
  const a = await connect(url, { ...base, http: '2', session });
  const b = await connect(`${url}b`, { ...base, http: '2', session });
  t.equal(a.httpVersion, '2');
  await echo(t, a, 'a');
  await echo(t, b, 'b');
  a.close();
  t.equal((await closeOf(a)).code, 1005);
  await echo(t, b, 'b still');
  b.close();
  await closeOf(b);
  // Past the pool's idle time: a pooled session would be closed by now; the application's is not.
  await new Promise((r) => setTimeout(r, H2_SESSION_IDLE + 200));
  t.equal(session.closed, false, 'the session is still open');
  const c = await connect(url, { ...base, http: '2', session });
  await echo(t, c, 'a third one on the same session');
  c.close();
  await closeOf(c);
});

t.test('session misuse, and a session whose server does not enable RFC 8441', async (t) => {
  const { port, url } = await echoServer(t);
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  t.teardown(() => session.destroy());
  for (const extra of [{ tls: {} }, { proxy: 'http://127.0.0.1:1' }, { createConnection: () => net.connect(1) }]) {
    const err = await failure(connect(url, { ...base, http: '2', session, ...extra }));
    t.equal(err.code, 'ERR_WS_INVALID_ARGUMENT');
    t.match(err.message, /cannot be combined/);
  }
  await t.rejects(connect(url, { ...base, session }), { code: 'ERR_WS_INVALID_ARGUMENT', message: /needs http: '2'/ });
  await t.rejects(connect(url, { ...base, http: '2', session: {} as never }), { code: 'ERR_WS_INVALID_ARGUMENT' });

  const plain = http2.createServer();
  plain.on('stream', (s) => s.respond({ ':status': 404 }, { endStream: true }));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  t.teardown(() => plain.close());
  const plainPort = (plain.address() as net.AddressInfo).port;
  const other = http2.connect(`http://127.0.0.1:${plainPort}`);
  other.on('error', () => {});
  t.teardown(() => other.destroy());
  const err = await failure(connect(`ws://127.0.0.1:${plainPort}/`, { ...base, http: '2', session: other, handshakeTimeout: 60_000 }));
  t.equal(err.code, 'ERR_WS_H2_NOT_SUPPORTED', 'told at once (after a PING), not at the deadline');
  t.equal(other.closed, false, 'the session is left to its owner');
  other.close();
  await once(other, 'close');
  t.equal((await failure(connect(url, { ...base, http: '2', session: other }))).code, 'ERR_WS_CONNECT', 'a closed session');
});

t.test('a createConnection that never delivers is bounded by handshakeTimeout; a late stream is destroyed', async (t) => {
  const { port, url } = await echoServer(t);
  let late: net.Socket | undefined;
  let deliver!: () => void;
  const delivered = new Promise<void>((r) => (deliver = r));
  const err = await failure(connect(url, {
    ...base,
    handshakeTimeout: 200,
    createConnection: () => new Promise<net.Socket>((resolve) => {
      void delivered.then(() => resolve((late = net.connect({ host: '127.0.0.1', port }))));
    }),
  }));
  t.equal(err.code, 'ERR_WS_HANDSHAKE_TIMEOUT');
  t.match(err.message, /createConnection gave no stream/);
  deliver();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  t.equal(late?.destroyed, true, 'the stream that came too late was destroyed');
});
