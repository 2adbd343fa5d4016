import t from 'tap';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from '../../lib/websocket.js';
import { ConnectionClosedError, InvalidArgumentError, InvalidStateError } from '../../lib/errors.js';
import { cframe } from '../helpers/frames.js';
import { closed, socketPair, wsPair, wsOver } from '../helpers/pair.js';
import { readUntil } from '../helpers/raw-peer.js';

t.test('messages flow both ways with their type', async (t) => {
  const { server, client } = await wsPair();
  await once(client, 'open');
  client.send('hello');
  const [data, isBinary] = await once(server, 'message');
  t.same(data, Buffer.from('hello'));
  t.equal(isBinary, false);
  server.send(Buffer.from([1, 2, 3]));
  const [back, backBinary] = await once(client, 'message');
  t.same(back, Buffer.from([1, 2, 3]));
  t.equal(backBinary, true);
  server.send(new Uint16Array([0x0102]));
  const [view] = await once(client, 'message');
  t.same(view, Buffer.from(new Uint16Array([0x0102]).buffer));
  client.terminate();
});

t.test('client-initiated close: code, reason and wasClean on both sides', async (t) => {
  const { server, client } = await wsPair();
  const sc = closed(server);
  const cc = closed(client);
  client.close(1000, 'bye');
  t.equal(client.readyState, WebSocket.CLOSING);
  t.same(await sc, { code: 1000, reason: 'bye', wasClean: true });
  // The initiator reports what the peer's close frame says: the echoed code, no reason.
  t.same(await cc, { code: 1000, reason: '', wasClean: true });
  t.equal(client.readyState, WebSocket.CLOSED);
  t.equal(server.readyState, WebSocket.CLOSED);
});

t.test('server-initiated close with an application code', async (t) => {
  const { server, client } = await wsPair();
  const sc = closed(server);
  const cc = closed(client);
  server.close(4001, 'app');
  t.same(await cc, { code: 4001, reason: 'app', wasClean: true });
  t.same(await sc, { code: 4001, reason: '', wasClean: true });
});

t.test('close without a code is reported as 1005', async (t) => {
  const { server, client } = await wsPair();
  const sc = closed(server);
  client.close();
  t.same(await sc, { code: 1005, reason: '', wasClean: true });
});

t.test('close() rejects codes and reasons a peer may not receive', async (t) => {
  const { server, client } = await wsPair();
  t.throws(() => client.close(1005), InvalidArgumentError);
  t.throws(() => client.close(1006), InvalidArgumentError);
  t.throws(() => client.close(999), InvalidArgumentError);
  t.throws(() => client.close(5000), InvalidArgumentError);
  t.throws(() => client.close(1000, 'x'.repeat(124)), InvalidArgumentError);
  t.throws(() => client.close(undefined, 'reason'), InvalidArgumentError);
  t.equal(client.readyState, WebSocket.OPEN, 'a rejected close changes nothing');
  client.close(1000, 'x'.repeat(123));
  const c = await closed(server);
  t.equal(c.reason.length, 123);
});

t.test('send after close reports an error instead of throwing', async (t) => {
  const { server, client } = await wsPair();
  const sc = closed(server);
  client.close(1000);
  let err: Error | undefined;
  t.equal(client.send('late', (e) => { err = e; }), false);
  await sleep(10);
  t.type(err, InvalidStateError);
  // ping() and pong() follow the same convention as send().
  let pingErr: Error | undefined;
  let pongErr: Error | undefined;
  t.equal(client.ping(undefined, (e) => { pingErr = e; }), false);
  t.equal(client.pong('x', (e) => { pongErr = e; }), false);
  await sleep(10);
  t.type(pingErr, InvalidStateError);
  t.type(pongErr, InvalidStateError);
  t.throws(() => client.ping(Buffer.alloc(126)), InvalidArgumentError, 'argument errors still throw');
  await sc;
});

t.test('terminate drops the connection: 1006 on both sides, not clean', async (t) => {
  const { server, client } = await wsPair();
  const sc = closed(server);
  const cc = closed(client);
  client.terminate();
  t.same(await cc, { code: 1006, reason: '', wasClean: false });
  t.same(await sc, { code: 1006, reason: '', wasClean: false });
});

t.test('a peer that never answers our close is dropped after closeTimeout', async (t) => {
  const { accepted, dialed } = await socketPair();
  const server = wsOver('server', accepted, { closeTimeout: 150 });
  const got = readUntil(dialed, (b) => b.length >= 4);
  server.close(1000, 'x');
  t.same(await got, Buffer.from([0x88, 0x03, 0x03, 0xe8, 0x78]).subarray(0, (await got).length), 'our close frame reached the wire');
  const c = await closed(server);
  t.same(c, { code: 1006, reason: '', wasClean: false });
  dialed.destroy();
});

t.test('the server closes TCP first after the closing handshake', async (t) => {
  const { accepted, dialed } = await socketPair();
  const server = wsOver('server', accepted);
  dialed.write(cframe({ opcode: 0x8, payload: Buffer.from([0x03, 0xe8]) }));
  const bytes = await readUntil(dialed, () => false);
  t.same(bytes, Buffer.from([0x88, 0x02, 0x03, 0xe8]), 'the echo close, then FIN from the server');
  t.same(await closed(server), { code: 1000, reason: '', wasClean: true });
});

t.test('bytes pipelined after the handshake head are delivered', async (t) => {
  const { accepted, dialed } = await socketPair();
  const head = cframe({ opcode: 0x1, payload: 'early' });
  const server = wsOver('server', accepted, {}, head);
  const [data] = await once(server, 'message');
  t.same(data, Buffer.from('early'));
  server.terminate();
  dialed.destroy();
});

t.test('keepalive: a silent peer is terminated and reported as 1006', async (t) => {
  const { accepted, dialed } = await socketPair();
  const server = wsOver('server', accepted, { keepAliveInterval: 40, keepAliveTimeout: 80 });
  const pings = readUntil(dialed, (b) => b.length >= 2);
  t.same((await pings).subarray(0, 2), Buffer.from([0x89, 0x00]), 'an empty ping went out');
  const c = await closed(server);
  t.equal(c.code, 1006);
  t.match(c.reason, /keepalive/);
  t.equal(c.wasClean, false);
  dialed.destroy();
});

t.test('keepalive: a peer that answers pings stays connected', async (t) => {
  const { server, client } = await wsPair({ server: { keepAliveInterval: 30, keepAliveTimeout: 60 } });
  let pings = 0;
  client.on('ping', () => pings++);
  let pongs = 0;
  server.on('pong', () => pongs++);
  await sleep(400);
  t.ok(pings >= 3, `client saw ${pings} pings`);
  t.ok(pongs >= 3, `server saw ${pongs} pongs`);
  t.equal(server.readyState, WebSocket.OPEN);
  const sc = closed(server);
  client.close(1000);
  t.equal((await sc).code, 1000);
});

t.test('send backpressure: false above the high-water mark, then drain', async (t) => {
  const { server, client } = await wsPair({ server: { sendHighWaterMark: 256 * 1024 } });
  client.pause();
  const chunk = Buffer.alloc(64 * 1024, 7);
  let sent = 0;
  while (server.send(chunk)) sent++;
  t.ok(server.bufferedAmount >= 256 * 1024, 'false only once the buffer reached the mark');
  t.ok(sent < 64, `${sent} sends accepted before the signal`);
  let received = 0;
  client.on('message', () => received++);
  const drained = once(server, 'drain');
  client.resume();
  await drained;
  t.ok(server.bufferedAmount < 256 * 1024);
  await sleep(50);
  t.equal(received, sent + 1, 'every message, including the one that returned false, arrives');
  client.terminate();
});

t.test('send queue limit: a peer that never reads is closed with 1008', async (t) => {
  const { accepted, dialed } = await socketPair();
  dialed.pause();
  const server = wsOver('server', accepted, { maxSendQueue: 8 * 1024 * 1024, closeTimeout: 200 });
  const errors: Error[] = [];
  server.on('error', (e) => errors.push(e));
  const big = Buffer.alloc(1024 * 1024);
  let accepted_ = 0;
  let cbErr: Error | undefined;
  for (let i = 0; i < 64; i++) {
    if (server.readyState !== WebSocket.OPEN) break;
    const before = server.bufferedAmount;
    server.send(big, (e) => { if (e) cbErr = e; });
    if (server.bufferedAmount > before) accepted_++;
  }
  t.ok(server.bufferedAmount <= 8 * 1024 * 1024 + 64 * 1024, `queue bounded (${server.bufferedAmount} bytes)`);
  const c = await closed(server);
  t.equal(c.code, 1008);
  t.equal(c.wasClean, false);
  t.equal((errors[0] as { code?: string }).code, 'ERR_WS_SEND_QUEUE_FULL');
  t.equal((cbErr as { code?: string } | undefined)?.code, 'ERR_WS_SEND_QUEUE_FULL');
  t.ok(accepted_ > 0 && accepted_ < 64);
  dialed.destroy();
});

t.test('send queue limit with the terminate policy drops at once', async (t) => {
  const { accepted, dialed } = await socketPair();
  dialed.pause();
  const server = wsOver('server', accepted, { maxSendQueue: 4 * 1024 * 1024, sendQueueLimitPolicy: 'terminate', closeTimeout: 60_000 });
  const big = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < 64 && server.readyState === WebSocket.OPEN; i++) server.send(big);
  const c = await closed(server);
  t.same(c, { code: 1008, reason: 'send queue limit exceeded', wasClean: false });
  dialed.destroy();
});

t.test('ping payloads are echoed in pongs; control payloads over 125 bytes are refused', async (t) => {
  const { server, client } = await wsPair();
  client.ping('abc');
  const [[pingPayload], [pongPayload]] = await Promise.all([once(server, 'ping'), once(client, 'pong')]);
  t.same(pingPayload, Buffer.from('abc'));
  t.same(pongPayload, Buffer.from('abc'));
  t.throws(() => client.ping(Buffer.alloc(126)), InvalidArgumentError);
  client.pong(Buffer.alloc(125));
  const [unsolicited] = await once(server, 'pong');
  t.equal(unsolicited.length, 125);
  client.terminate();
});

t.test('ping flood from a peer that never reads: pongs are coalesced, memory bounded', async (t) => {
  const { accepted, dialed } = await socketPair();
  const server = wsOver('server', accepted);
  dialed.pause();
  const N = 100_000; // 13 MB: more than loopback kernel buffers hold, so the socket really backs up
  const frames: Buffer[] = [];
  for (let i = 0; i < N; i++) frames.push(cframe({ opcode: 0x9, payload: Buffer.alloc(125, i & 0xff).fill(String(i).padStart(8, '0'), 0, 8) }));
  const flood = Buffer.concat(frames);
  dialed.write(flood);
  let pingsSeen = 0;
  server.on('ping', () => pingsSeen++);
  while (pingsSeen < N) await sleep(10);
  t.ok(server.bufferedAmount < 2 * 1024 * 1024, `server write buffer bounded: ${server.bufferedAmount} bytes for ${N} pings of 127 bytes`);
  dialed.resume();
  const all = await readUntil(dialed, (b) => b.length >= 8 && b.subarray(b.length - 127 + 2, b.length - 127 + 10).toString() === String(N - 1).padStart(8, '0'));
  const pongs = Math.floor(all.length / 127);
  t.ok(pongs < N, `${pongs} pongs for ${N} pings`);
  t.equal(all.subarray(all.length - 125, all.length - 117).toString(), String(N - 1).padStart(8, '0'), 'the latest ping is answered');
  server.terminate();
  dialed.destroy();
});

t.test('async iterator yields messages in order and ends after a clean close', async (t) => {
  const { server, client } = await wsPair();
  for (let i = 0; i < 5; i++) client.send(`m${i}`);
  client.close(1000);
  const got: string[] = [];
  for await (const m of server) got.push(m.data.toString());
  t.same(got, ['m0', 'm1', 'm2', 'm3', 'm4']);
});

t.test('async iterator throws ConnectionClosedError after an abnormal close', async (t) => {
  const { server, client } = await wsPair();
  client.send('one');
  const got: string[] = [];
  setTimeout(() => client.terminate(), 50);
  await t.rejects(async () => {
    for await (const m of server) got.push(m.data.toString());
  }, ConnectionClosedError);
  t.same(got, ['one']);
});

t.test('async iterator backpressure: a stalled consumer stops the socket being read', async (t) => {
  const { server, client } = await wsPair();
  const it = server[Symbol.asyncIterator]();
  const first = await (async () => { client.send(Buffer.alloc(10)); return it.next(); })();
  t.equal(first.value?.data.length, 10);
  const msg = Buffer.alloc(256 * 1024, 1);
  const total = 200; // 50 MiB: under the default 64 MiB send-queue limit
  for (let i = 0; i < total; i++) { msg.writeUInt32BE(i, 0); client.send(msg); }
  await sleep(500);
  t.ok(client.bufferedAmount > 16 * 1024 * 1024, `sender still holds ${client.bufferedAmount} of ${total * msg.length} bytes: the receiver stopped reading`);
  let n = 0;
  let outOfOrder = 0;
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    if (r.value.data.readUInt32BE(0) !== n) outOfOrder++;
    if (++n === total) break;
  }
  t.equal(n, total, 'everything arrives once the consumer catches up');
  t.equal(outOfOrder, 0, 'in order');
  await it.return?.();
  client.terminate();
});

t.test('bad options are refused up front, not at the first connection', async (t) => {
  const { WebSocketServer, connect } = await import('../../lib/index.js');
  t.throws(() => new WebSocketServer({ keepAliveInterval: -1 }), InvalidArgumentError);
  t.throws(() => new WebSocketServer({ maxPayload: Number.NaN }), InvalidArgumentError);
  t.throws(() => new WebSocketServer({ sendQueueLimitPolicy: 'drop' as 'close' }), InvalidArgumentError);
  await t.rejects(connect('ws://127.0.0.1:1/', { closeTimeout: -5 }), InvalidArgumentError);
});
