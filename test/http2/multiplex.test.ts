// Many WebSockets on one HTTP/2 session, our client against our server, and the exact bytes inside DATA frames.
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { H2_SESSION_IDLE, pooledSessionCount } from '../../lib/client/h2.js';
import type { WebSocket } from '../../lib/websocket.js';
import { cframe } from '../helpers/frames.js';
import { NO_OPENSSL, type Test, certificate, closeOf, connectHeaders, echoServer, rawSession, trust, until } from './helpers.js';

async function multiplex(t: Test, secure: boolean, deflate: boolean): Promise<void> {
  const { server, url } = await echoServer(t, { perMessageDeflate: deflate, path: '/echo' }, secure);
  const ports = new Set<number | undefined>();
  const versions = new Set<string>();
  server.on('connection', (_ws, req) => {
    ports.add(req.remotePort);
    versions.add(req.httpVersion);
  });
  const N = 100;
  const sockets: WebSocket[] = await Promise.all(
    Array.from({ length: N }, () =>
      connect(`${url}echo?x=1`, { http: '2', perMessageDeflate: deflate, keepAliveInterval: 0, tls: secure ? trust() : undefined }),
    ),
  );
  t.equal(pooledSessionCount(), 1, 'one pooled client session');
  t.same([...ports].length, 1, 'every WebSocket arrived on the same TCP connection');
  t.same([...versions], ['2.0'], "req.httpVersion is '2.0'");
  t.ok(sockets.every((ws) => ws.httpVersion === '2'), "ws.httpVersion is '2'");
  t.ok(sockets.every((ws) => ws.extensions === (deflate ? 'permessage-deflate' : '')), 'extensions as negotiated');
  t.equal(server.clients.size, N);

  // Interleaved: round after round, every WebSocket sends one message; big ones cross DATA frame and window sizes.
  const ROUNDS = 5;
  const received: string[][] = sockets.map(() => []);
  const done = Promise.all(
    sockets.map(
      (ws, i) =>
        new Promise<void>((resolve) => {
          ws.on('message', (data) => {
            received[i]!.push(data.toString());
            if (received[i]!.length === ROUNDS) resolve();
          });
        }),
    ),
  );
  const payload = (i: number, r: number): string => `${i}:${r}:` + String.fromCharCode(97 + ((i + r) % 26)).repeat(r === 2 ? 70_000 : 100 + i);
  for (let r = 0; r < ROUNDS; r++) sockets.forEach((ws, i) => ws.send(payload(i, r)));
  await done;
  let ordered = true;
  sockets.forEach((_ws, i) => {
    for (let r = 0; r < ROUNDS; r++) if (received[i]![r] !== payload(i, r)) ordered = false;
  });
  t.ok(ordered, 'every echo came back on its own WebSocket, in order, intact');

  // Closing WebSockets ends their streams only: the session stays for the others.
  const half = sockets.slice(0, N / 2);
  const closes = await Promise.all(half.map((ws) => { ws.close(1000, 'bye'); return closeOf(ws); }));
  t.ok(closes.every((c) => c.code === 1000 && c.wasClean), 'clean 1000 closes');
  const rest = sockets.slice(N / 2);
  rest[0]!.send('still here');
  t.equal((await new Promise<Buffer>((r) => rest[0]!.once('message', r))).toString(), 'still here', 'the session carries the rest on');
  await Promise.all(rest.map((ws) => { ws.close(); return closeOf(ws); }));
  await until(() => server.clients.size === 0);
  t.equal(pooledSessionCount(), 1, 'the session outlives its last WebSocket for a moment');
  await new Promise((r) => setTimeout(r, H2_SESSION_IDLE + 200));
  t.equal(pooledSessionCount(), 0, `...and is closed ${H2_SESSION_IDLE} ms later`);
}

t.test('100 WebSockets on one h2c session, uncompressed', (t) => multiplex(t, false, false));
t.test('100 WebSockets on one h2c session, permessage-deflate', (t) => multiplex(t, false, true));
t.test('100 WebSockets on one TLS h2 session (ALPN), permessage-deflate', { skip: certificate() === null ? NO_OPENSSL : false }, (t) =>
  multiplex(t, true, true));

t.test('exact bytes: RFC 6455 frames inside DATA, client-masked; END_STREAM after the closing handshake', async (t) => {
  const { server, port } = await echoServer(t);
  const session = await rawSession(t, port);
  t.equal(session.remoteSettings.enableConnectProtocol, true, 'SETTINGS_ENABLE_CONNECT_PROTOCOL = 1');
  t.equal(session.remoteSettings.maxConcurrentStreams, 100, 'SETTINGS_MAX_CONCURRENT_STREAMS = the default cap');
  const stream = session.request(connectHeaders({ 'sec-websocket-protocol': 'chat' }), { endStream: false });
  const headers = await new Promise<Record<string, unknown>>((r) => stream.once('response', (h) => r(h)));
  t.equal(headers[':status'], 200);
  t.equal(headers['sec-websocket-protocol'], undefined, 'no subprotocol chosen: none served');
  t.equal(headers['sec-websocket-accept'], undefined, 'no accept key over HTTP/2');
  const received: Buffer[] = [];
  stream.on('data', (c: Buffer) => received.push(c));
  const ended = new Promise<void>((r) => stream.once('end', r));
  const closed = new Promise<void>((r) => stream.once('close', r));
  stream.write(cframe({ opcode: 0x1, payload: 'hi' }));
  await until(() => Buffer.concat(received).length >= 4);
  t.same(Buffer.concat(received), Buffer.from([0x81, 0x02, 0x68, 0x69]), 'unmasked server text frame "hi"');
  stream.write(cframe({ opcode: 0x8, payload: Buffer.from([0x03, 0xe8]) }));
  await ended;
  t.same(Buffer.concat(received).subarray(4), Buffer.from([0x88, 0x02, 0x03, 0xe8]), 'close 1000 echoed, then END_STREAM');
  // This peer never sends END_STREAM: the server closes its half too, without an error.
  await closed;
  t.equal(stream.rstCode, 0, 'then RST_STREAM(NO_ERROR): the closing handshake is complete');
  await until(() => server.clients.size === 0);
  t.notOk(session.closed || session.destroyed, 'the session stays open');
});
