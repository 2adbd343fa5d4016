// Issue 2, public API and client options over a real upgrade: send() input types and
// the binary/text choice, remote address/port, the client's maxPayload, CR/LF refusal,
// keepalive in the client role and a peer that talks but never pongs.
import { once } from 'node:events';
import type * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { WebSocketServer } from '../../lib/server/server.js';
import { WebSocket } from '../../lib/websocket.js';
import { cframe, OP, sframe } from '../helpers/frames.js';
import { acceptFor } from '../helpers/http.js';
import { closed, socketPair, wsOver } from '../helpers/pair.js';
import { scriptedServer, upgradeServer } from '../helpers/raw-server.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

/** A raw server that answers one upgrade with 101 and hands the socket to `after`. */
async function rawUpgradeServer(t: Test, after: (socket: net.Socket) => void): Promise<string> {
  return (await upgradeServer(t, after)).url;
}

t.test('send(): strings, Buffers, ArrayBuffers, typed-array views (with offsets), DataView; binary overrides', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', keepAliveInterval: 0 });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  const received: Array<[string, boolean]> = [];
  const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const ws = await connect(`ws://127.0.0.1:${port}/`, { keepAliveInterval: 0 });
  const server = await serverSide;
  server.on('message', (d: Buffer, isBinary: boolean) => received.push([d.toString('hex'), isBinary]));
  const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
  ws.send('hé');
  ws.send(Buffer.from([1, 2]));
  ws.send(new Uint8Array([3, 4]).buffer);
  ws.send(backing.subarray(2, 5));
  ws.send(new DataView(backing.buffer, 1, 2));
  ws.send(new Uint16Array([0x0102]));
  ws.send(Buffer.from('as text'), { binary: false });
  ws.send('as binary', { binary: true });
  while (received.length < 8) await once(server, 'message');
  t.same(received, [
    [Buffer.from('hé').toString('hex'), false],
    ['0102', true],
    ['0304', true],
    ['010203', true],
    ['0901', true],
    [Buffer.from(new Uint16Array([0x0102]).buffer).toString('hex'), true],
    [Buffer.from('as text').toString('hex'), false],
    [Buffer.from('as binary').toString('hex'), true],
  ]);
  t.equal(ws.remoteAddress, '127.0.0.1');
  t.equal(ws.remotePort, port);
  t.equal(server.remoteAddress, '127.0.0.1');
  t.equal(typeof server.remotePort, 'number');
  t.equal(ws.role, 'client');
  t.equal(server.role, 'server');
  t.equal(ws.readyState, WebSocket.OPEN);
  t.equal(ws.bufferedAmount, 0);
  const sc = closed(server);
  ws.close(1000);
  await sc;
});

t.test("'open' fires in both roles", async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', keepAliveInterval: 0 });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  const serverOpen = new Promise<void>((resolve) => wss.once('connection', (ws: WebSocket) => ws.once('open', () => resolve())));
  const ws = await connect(`ws://127.0.0.1:${port}/`, { keepAliveInterval: 0 });
  await once(ws, 'open');
  await serverOpen;
  t.pass('open on both sides');
  ws.terminate();
});

t.test('client maxPayload: a larger message from the server fails with 1009', async (t) => {
  const url = await rawUpgradeServer(t, (socket) => socket.write(sframe({ opcode: OP.BINARY, payload: Buffer.alloc(11) })));
  const ws = await connect(url, { keepAliveInterval: 0, maxPayload: 10 });
  ws.on('error', () => {});
  let messages = 0;
  ws.on('message', () => messages++);
  const c = await closed(ws);
  t.equal(c.code, 1009);
  t.equal(c.wasClean, false);
  t.equal(messages, 0);
});

t.test('client: CR or LF alone in a header value, a subprotocol or the origin is refused before dialing', async (t) => {
  let dialed = 0;
  const url = await rawUpgradeServer(t, () => dialed++);
  const cases: Array<[string, object]> = [
    ['CR alone in a value', { headers: { 'X-A': 'a\rb' } }],
    ['LF alone in a value', { headers: { 'X-A': 'a\nb' } }],
    ['CR in a header name', { headers: { 'X-A\r': 'b' } }],
    ['LF in a subprotocol', { protocols: ['chat\n'] }],
    ['CR in a subprotocol', { protocols: ['chat\r'] }],
    ['LF in the origin', { origin: 'http://a\nb' }],
    ['NUL in a value', { headers: { 'X-A': 'a\0b' } }],
  ];
  for (const [name, options] of cases) {
    await t.rejects(connect(url, options), { code: 'ERR_WS_INVALID_ARGUMENT' }, name);
  }
  await sleep(20);
  t.equal(dialed, 0);
});

t.test('keepalive, client role: a silent server is terminated and reported as 1006', async (t) => {
  let pings = Buffer.alloc(0);
  const url = await rawUpgradeServer(t, (socket) => socket.on('data', (c: Buffer) => (pings = Buffer.concat([pings, c]))));
  const ws = await connect(url, { keepAliveInterval: 40, keepAliveTimeout: 80 });
  const c = await closed(ws);
  t.equal(c.code, 1006);
  t.equal(c.wasClean, false);
  t.equal(pings[0], 0x89, 'a (masked) ping went out first');
  t.equal(pings[1], 0x80, 'empty and masked');
});

t.test('keepalive: a peer that never pongs but keeps sending frames stays connected', async (t) => {
  const { accepted, dialed, close } = await socketPair();
  t.teardown(close);
  dialed.on('data', () => {});
  const server = wsOver('server', accepted, { keepAliveInterval: 100, keepAliveTimeout: 400 });
  let pings = 0;
  const frame = cframe({ opcode: 0x1, payload: 'still here' });
  // A client that ignores pings (its socket reads but never answers) and sends data every 20 ms.
  const talker = setInterval(() => dialed.write(frame), 20);
  let messages = 0;
  server.on('message', () => messages++);
  const seenPings = new Promise<void>((resolve) => {
    const onData = (c: Buffer): void => {
      if (c.includes(Buffer.from([0x89, 0x00])) && ++pings >= 4) {
        dialed.off('data', onData);
        resolve();
      }
    };
    dialed.on('data', onData);
  });
  await seenPings;
  clearInterval(talker);
  t.equal(server.readyState, WebSocket.OPEN, `still open after ${pings} unanswered pings`);
  t.ok(messages > 0);
  const c = closed(server);
  server.terminate();
  await c;
});

t.test('client: a 101 response (and the first frame after it) delivered one byte at a time', async (t) => {
  const server = await scriptedServer(t, async (socket, _head, key) => {
    const bytes = Buffer.concat([
      Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`),
      sframe({ opcode: OP.TEXT, payload: 'hi' }),
    ]);
    for (let i = 0; i < bytes.length; i++) {
      socket.write(bytes.subarray(i, i + 1));
      await new Promise((r) => setImmediate(r));
    }
  });
  const ws = await connect(server.url, { keepAliveInterval: 0 });
  const [data, isBinary] = await once(ws, 'message');
  t.equal(String(data), 'hi');
  t.equal(isBinary, false);
  ws.terminate();
});
