// A stream reset or a session going away ends the WebSockets it carried (1006), and only those.
import { once } from 'node:events';
import * as http2 from 'node:http2';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { pooledSessionCount } from '../../lib/client/h2.js';
import { WebSocketServer } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';
import { cframe } from '../helpers/frames.js';
import { closeOf, connectHeaders, echoServer, nextMessage, rawSession, until } from './helpers.js';

t.test('RST_STREAM mid-message: 1006 on that WebSocket, the other stream goes on, nothing kept', async (t) => {
  const { server, port } = await echoServer(t);
  const serverSide: WebSocket[] = [];
  server.on('connection', (ws) => serverSide.push(ws));
  const session = await rawSession(t, port);
  const a = session.request(connectHeaders(), { endStream: false });
  const b = session.request(connectHeaders(), { endStream: false });
  await Promise.all([once(a, 'response'), once(b, 'response')]);
  await until(() => serverSide.length === 2);
  const closes = serverSide.map(closeOf);
  // Half a message on A: a frame header announcing 1000 bytes, then 10 of them.
  a.write(cframe({ opcode: 0x2, payload: Buffer.alloc(1000, 7) }).subarray(0, 18));
  await new Promise((r) => setTimeout(r, 20));
  a.close(http2.constants.NGHTTP2_CANCEL);
  const first = await Promise.race(closes.map((p, i) => p.then((c) => ({ i, ...c }))));
  t.same({ code: first.code, wasClean: first.wasClean }, { code: 1006, wasClean: false }, 'the reset WebSocket closed with 1006');
  t.equal(server.clients.size, 1, 'it left the server');
  const echoed: Buffer[] = [];
  b.on('data', (c: Buffer) => echoed.push(c));
  b.write(cframe({ opcode: 0x1, payload: 'still' }));
  await until(() => Buffer.concat(echoed).length >= 7);
  t.same(Buffer.concat(echoed), Buffer.from([0x81, 0x05, ...Buffer.from('still')]), 'the other stream still echoes');
  t.notOk(session.destroyed, 'the session is untouched');
  t.equal(server.pendingHandshakes, 0);
});

t.test('the client session destroyed mid-message: every WebSocket on it gets 1006', async (t) => {
  const { server, port } = await echoServer(t);
  const serverSide: WebSocket[] = [];
  server.on('connection', (ws) => serverSide.push(ws));
  const session = await rawSession(t, port);
  const streams = [session.request(connectHeaders(), { endStream: false }), session.request(connectHeaders(), { endStream: false })];
  await Promise.all(streams.map((s) => once(s, 'response')));
  await until(() => serverSide.length === 2);
  const closes = Promise.all(serverSide.map(closeOf));
  for (const s of streams) s.write(cframe({ opcode: 0x1, payload: 'x'.repeat(300) }).subarray(0, 50));
  await new Promise((r) => setTimeout(r, 20));
  session.destroy();
  t.same((await closes).map((c) => c.code), [1006, 1006]);
  await until(() => server.clients.size === 0);
  t.pass('no client left on the server');
});

t.test('GOAWAY from the server: open WebSockets go on, new ones get a new session; server.close() ends both', async (t) => {
  const app = http2.createServer();
  const sessions: http2.ServerHttp2Session[] = [];
  app.on('session', (s) => sessions.push(s));
  const wss = new WebSocketServer({ server: app, keepAliveInterval: 0 });
  wss.on('connection', (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const port = (app.address() as { port: number }).port;
  t.teardown(() => app.close());
  const url = `ws://127.0.0.1:${port}/`;
  const ws1 = await connect(url, { http: '2', keepAliveInterval: 0 });
  t.equal(sessions.length, 1);
  const gone = new Promise<void>((r) => sessions[0]!.once('close', () => r()));
  sessions[0]!.goaway(http2.constants.NGHTTP2_NO_ERROR);
  await until(() => pooledSessionCount() === 0);
  t.pass('the client forgot the session on GOAWAY');
  ws1.send('one');
  t.equal((await nextMessage(ws1)).toString(), 'one', 'the WebSocket opened before GOAWAY still works');
  const ws2 = await connect(url, { http: '2', keepAliveInterval: 0 });
  t.equal(sessions.length, 2, 'a new WebSocket opened a new session');
  const closes = [closeOf(ws1), closeOf(ws2)];
  await wss.close(1000);
  const [c1, c2] = await Promise.all(closes);
  t.same([c1.code, c2.code], [1001, 1001], 'server.close() sends 1001 over HTTP/2 too');
  await gone;
  t.pass('the first session closed once its last stream ended');
});

t.test('standalone server.close(): h2 WebSockets get 1001 and the sessions are closed', async (t) => {
  const { server, url } = await echoServer(t);
  const ws = await connect(url, { http: '2', keepAliveInterval: 0 });
  const closed = closeOf(ws);
  await server.close(1000);
  t.equal((await closed).code, 1001);
  await until(() => pooledSessionCount() === 0);
  t.pass('the client session went away with the server');
});
