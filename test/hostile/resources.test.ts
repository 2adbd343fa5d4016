// Resource exhaustion over real sockets, after a real upgrade: each attack must
// end in the close code the RFC asks for, with memory growth bounded (generous
// bounds: these prove "bounded", not "small").
import { once } from 'node:events';
import * as net from 'node:net';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import type { WebSocket } from '../../lib/websocket.js';
import { closeCodeIn, frame, sframe } from '../helpers/frames.js';
import { upgradeRequest } from '../helpers/http.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { upgradeServer as rawServer } from '../helpers/raw-server.js';
import { MiB, deflateBomb, listen, memoryWatch, mib, track } from './helpers.js';

const KEY = Buffer.from([0x11, 0x22, 0x33, 0x44]);

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

async function serverConnection(t: Test, options: Parameters<typeof listen>[1], peerOpts: Parameters<typeof RawPeer.upgrade>[1] = {}) {
  const { wss, port } = await listen(t, options);
  const connection = once(wss, 'connection') as Promise<[WebSocket]>;
  const peer = await RawPeer.upgrade(port, peerOpts);
  t.teardown(() => peer.socket.destroy());
  const [ws] = await connection;
  const errors: Error[] = [];
  ws.on('error', (e) => errors.push(e));
  return { wss, ws, peer, errors, ...track(ws) };
}

t.test('endless empty continuation frames: 1009 right after maxFragments (default 2^20), memory flat', async (t) => {
  const { wss, peer, closed, closes } = await serverConnection(t, {});
  const mem = memoryWatch();
  const empty = frame({ opcode: 0, fin: false, mask: KEY });
  const batch = Buffer.concat(Array.from({ length: 8192 }, () => empty));
  await peer.write(frame({ opcode: 1, fin: false, payload: 'start', mask: KEY }));
  let sent = 0;
  while (closeCodeIn(peer.received) === null && !peer.closed && sent < 2 * (1 << 20)) {
    await peer.write(batch);
    sent += 8192;
  }
  const code = await peer.until((b) => closeCodeIn(b) !== null).then(closeCodeIn);
  const grew = mem.stop();
  t.equal(code, 1009, 'close frame 1009 on the wire');
  t.ok(sent >= 1 << 20, `the peer got to send 2^20 continuation frames first (${sent})`);
  t.same(await closed, { code: 1009, reason: 'Message has more than 1048576 fragments', wasClean: false });
  t.ok(grew.rss < 64 * MiB && grew.heap < 32 * MiB, `memory growth bounded: rss ${mib(grew.rss)}, heap ${mib(grew.heap)}`);
  await peer.whenClosed();
  t.equal(closes.length, 1);
  t.equal(wss.clients.size, 0);
});

t.test('a frame announcing 2^40 bytes: 1009 at once, before any payload, nothing buffered', async (t) => {
  const { peer, closed } = await serverConnection(t, {});
  const mem = memoryWatch();
  await peer.write(frame({ opcode: 2, declaredLength: 2n ** 40n, payload: Buffer.alloc(0), mask: KEY }));
  const code = closeCodeIn(await peer.until((b) => closeCodeIn(b) !== null));
  t.equal(code, 1009, 'answered with 1009 after the 14 header bytes alone');
  // Payload sent afterwards is ignored, not buffered.
  await peer.write(Buffer.alloc(4 * MiB));
  const c = await closed;
  t.equal(c.code, 1009);
  t.equal(c.wasClean, false);
  const grew = mem.stop();
  t.ok(grew.rss < 64 * MiB, `rss growth ${mib(grew.rss)}`);
});

t.test('a 64-bit length with the most significant bit set: 1002', async (t) => {
  const { peer, closed } = await serverConnection(t, {});
  await peer.write(frame({ opcode: 2, declaredLength: 2n ** 63n + 5n, payload: Buffer.alloc(0), mask: KEY }));
  t.equal(closeCodeIn(await peer.until((b) => closeCodeIn(b) !== null)), 1002);
  t.equal((await closed).code, 1002);
});

t.test('client side: a server announcing 2^40 bytes gets 1009', async (t) => {
  const server = await rawServer(t, (socket) => socket.write(sframe({ opcode: 2, declaredLength: 2n ** 40n, payload: Buffer.alloc(0) })));
  const ws = await connect(server.url, { keepAliveInterval: 0, closeTimeout: 200 });
  const { closed } = track(ws);
  const c = await closed;
  t.equal(c.code, 1009);
  t.equal(c.wasClean, false);
});

t.test('decompression bomb over a socket with permessage-deflate: 1009, memory bounded', async (t) => {
  const bomb = deflateBomb(64); // 256 MiB inflated from ~260 KiB
  for (const fragmented of [false, true]) {
    const { peer, closed, ws } = await serverConnection(t, { perMessageDeflate: true, maxPayload: 4 * MiB }, { deflate: true });
    t.equal(ws.extensions, 'permessage-deflate', 'deflate negotiated');
    let messages = 0;
    ws.on('message', () => messages++);
    const mem = memoryWatch();
    if (!fragmented) {
      await peer.write(frame({ opcode: 2, rsv1: true, payload: bomb, mask: KEY }));
    } else {
      const step = 4096;
      for (let i = 0; i < bomb.length && closeCodeIn(peer.received) === null; i += step) {
        const last = i + step >= bomb.length;
        await peer.write(frame({ opcode: i === 0 ? 2 : 0, rsv1: i === 0, fin: last, payload: bomb.subarray(i, i + step), mask: KEY }));
      }
    }
    t.equal(closeCodeIn(await peer.until((b) => closeCodeIn(b) !== null)), 1009, `${fragmented ? 'fragmented' : 'one frame'}: 1009 on the wire`);
    const c = await closed;
    const grew = mem.stop();
    t.equal(c.code, 1009);
    t.equal(messages, 0, 'nothing delivered');
    t.ok(grew.rss < 100 * MiB, `rss growth ${mib(grew.rss)} for a 256 MiB bomb with maxPayload 4 MiB`);
  }
});

t.test('client side: a decompression bomb from the server gets 1009', async (t) => {
  const bomb = deflateBomb(64);
  const server = await rawServer(t, (socket) => socket.write(sframe({ opcode: 2, rsv1: true, payload: bomb })), 'permessage-deflate');
  const ws = await connect(server.url, { keepAliveInterval: 0, closeTimeout: 200, perMessageDeflate: true, maxPayload: 4 * MiB });
  t.equal(ws.extensions, 'permessage-deflate');
  const { closed } = track(ws);
  const mem = memoryWatch();
  const c = await closed;
  const grew = mem.stop();
  t.equal(c.code, 1009);
  t.ok(grew.rss < 100 * MiB, `rss growth ${mib(grew.rss)}`);
});

t.test('ping flood from a peer that never reads: write buffer bounded, pongs coalesced', async (t) => {
  const { ws, peer } = await serverConnection(t, {}, { read: false });
  let pings = 0;
  let maxBuffered = 0;
  ws.on('ping', () => {
    pings++;
    if (ws.bufferedAmount > maxBuffered) maxBuffered = ws.bufferedAmount;
  });
  const ping = frame({ opcode: 0x9, payload: Buffer.alloc(125, 0x61), mask: KEY });
  const batch = Buffer.concat(Array.from({ length: 2000 }, () => ping));
  const mem = memoryWatch();
  const batches = 200; // 400,000 pings, ~52 MB
  for (let i = 0; i < batches; i++) await peer.write(batch);
  while (pings < batches * 2000) await new Promise((r) => setTimeout(r, 10));
  const grew = mem.stop();
  t.equal(pings, batches * 2000, 'every ping was read and reported');
  t.ok(maxBuffered < 256 * 1024, `server write buffer stayed at most ${maxBuffered} bytes`);
  t.ok(grew.rss < 64 * MiB, `rss growth ${mib(grew.rss)}`);
  t.equal(ws.readyState, ws.OPEN, 'a ping flood alone is not a reason to close');
  ws.terminate();
});

t.test('a peer that never reads while the server sends 1 MiB messages: send limit, 1008', async (t) => {
  const { ws, errors, closed } = await serverConnection(t, { maxSendQueue: 16 * MiB, closeTimeout: 300 }, { read: false });
  const msg = Buffer.alloc(MiB, 0x5a);
  let maxBuffered = 0;
  let accepted = 0;
  const cbErrors: Error[] = [];
  const mem = memoryWatch();
  // A careless application: ignores send()'s return value and 'drain'.
  while (ws.readyState === ws.OPEN) {
    ws.send(msg, (err) => {
      if (err) cbErrors.push(err);
      else accepted++;
    });
    maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
    await new Promise((r) => setImmediate(r));
  }
  const c = await closed;
  const grew = mem.stop();
  t.equal(c.code, 1008);
  t.equal(c.wasClean, false, 'the peer never read our close frame');
  t.ok(maxBuffered <= 16 * MiB, `bufferedAmount peaked at ${mib(maxBuffered)} (limit 16 MiB)`);
  t.equal((errors[0] as { code?: string } | undefined)?.code, 'ERR_WS_SEND_QUEUE_FULL');
  t.ok(cbErrors.some((e) => (e as { code?: string }).code === 'ERR_WS_SEND_QUEUE_FULL'), 'the refused send reports why');
  t.ok(grew.rss < 100 * MiB, `rss growth ${mib(grew.rss)}`);
});

t.test('frames pipelined behind the request while authorize is pending are not read ahead', async (t) => {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const { wss, port } = await listen(t, { authorize: () => gate.then(() => true) });
  const flood = frame({ opcode: 2, payload: Buffer.alloc(60_000, 3), mask: KEY });
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  t.teardown(() => socket.destroy());
  await once(socket, 'connect');
  socket.write(upgradeRequest());
  const mem = memoryWatch();
  let queued = 0;
  // Write until the kernel and both socket buffers push back.
  while (socket.write(flood)) queued += flood.length;
  await new Promise((r) => setTimeout(r, 100));
  const grew = mem.stop();
  t.ok(socket.writableLength > 0, `the client is blocked with ${mib(socket.writableLength)} unsent after ${mib(queued)}`);
  t.ok(grew.rss < 64 * MiB, `server side did not read ahead: rss growth ${mib(grew.rss)}`);
  const connection = once(wss, 'connection') as Promise<[WebSocket]>;
  release();
  const [ws] = await connection;
  const [first] = (await once(ws, 'message')) as [Buffer];
  t.equal(first.length, 60_000, 'the pipelined frames are delivered once accepted');
  ws.terminate();
});

t.test('received bytes waiting behind a slow inflate are bounded (socket reading pauses)', async (t) => {
  const { ws, peer, closed } = await serverConnection(t, { perMessageDeflate: true, maxPayload: 256 * MiB }, { deflate: true });
  const conn = (ws as unknown as { conn: { bufferedAmount: number } }).conn;
  let maxBuffered = 0;
  const sampler = setInterval(() => (maxBuffered = Math.max(maxBuffered, conn.bufferedAmount)), 1);
  t.teardown(() => clearInterval(sampler));
  let messages = 0;
  let pings = 0;
  ws.on('message', () => messages++);
  ws.on('ping', () => pings++);
  // 192 MiB of zeros in ~190 KiB: inflating takes a while, and meanwhile 8 MiB of pings arrive.
  const heavy = deflateBomb(48);
  const ping = frame({ opcode: 0x9, payload: Buffer.alloc(100), mask: KEY });
  const pingBatch = Buffer.concat(Array.from({ length: 1000 }, () => ping));
  const writes: Promise<void>[] = [peer.write(frame({ opcode: 2, rsv1: true, payload: heavy, mask: KEY }))];
  for (let i = 0; i < 80; i++) writes.push(peer.write(pingBatch));
  await Promise.all(writes);
  while (pings < 80_000 && ws.readyState === ws.OPEN) await new Promise((r) => setTimeout(r, 10));
  clearInterval(sampler);
  t.equal(messages, 1, 'the big message arrived');
  t.equal(pings, 80_000, 'and every ping after it');
  t.ok(maxBuffered <= 2 * MiB, `unparsed input peaked at ${mib(maxBuffered)} (reading pauses at 1 MiB)`);
  ws.terminate();
  await closed;
});

t.test('a paused connection holding unparsed input does not poll while paused', async (t) => {
  const { ws, peer } = await serverConnection(t, { perMessageDeflate: true, maxPayload: 256 * MiB }, { deflate: true });
  const conn = (ws as unknown as { conn: { bufferedAmount: number } }).conn;
  let paused = false;
  ws.on('message', () => {
    if (!paused) {
      paused = true;
      ws.pause();
    }
  });
  // While the big message inflates, the small ones pile up unparsed (reading stops at 1 MiB);
  // the application then pauses on the big one with all of that still buffered.
  const small = Buffer.concat(Array.from({ length: 200 }, () => frame({ opcode: 2, payload: Buffer.alloc(10_000), mask: KEY })));
  await peer.write(Buffer.concat([frame({ opcode: 2, rsv1: true, payload: deflateBomb(48), mask: KEY }), small]));
  while (!paused) await new Promise((r) => setTimeout(r, 5));
  t.ok(conn.bufferedAmount >= MiB / 2, `paused with ${mib(conn.bufferedAmount)} unparsed`);
  const original = globalThis.setTimeout;
  let timers = 0;
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    timers++;
    return original(fn, ms);
  }) as typeof setTimeout;
  try {
    await new Promise((r) => original(r, 300));
  } finally {
    globalThis.setTimeout = original;
  }
  t.ok(timers < 5, `${timers} timers started in 300 ms while paused (nothing can change until resume())`);
  let delivered = 0;
  ws.on('message', () => delivered++);
  ws.resume();
  while (delivered < 200) await new Promise((r) => setTimeout(r, 5));
  t.equal(delivered, 200, 'resume() delivers everything that was held');
  ws.terminate();
});

t.test('compressed sends queued past sendHighWaterMark toward a peer that does not read: the event loop keeps running', async (t) => {
  const { ws } = await serverConnection(t, { perMessageDeflate: { threshold: 0 }, closeTimeout: 200 }, { deflate: true, read: false });
  const big = Buffer.alloc(256 * 1024, 0x41);
  const returned: boolean[] = [];
  for (let k = 0; k < 8; k++) returned.push(ws.send(big));
  t.ok(returned.includes(false), 'send() signalled backpressure');
  // With compressions pending, waiting for 'drain' must not turn into a busy loop that starves timers and zlib.
  let ticks = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (++ticks === 5) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  t.equal(ticks, 5, 'timers still fire');
  ws.terminate();
});
