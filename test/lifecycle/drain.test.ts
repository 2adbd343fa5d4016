// server.drain(): stop accepting, then close connections in evenly spaced batches (manual clock), over real sockets.
import t from 'tap';
import { once } from 'node:events';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import { InvalidArgumentError } from '../../lib/errors.js';
import { WebSocketServer } from '../../lib/server/server.js';
import { drainPlan, MIN_DRAIN_INTERVAL } from '../../lib/server/shutdown.js';
import { WebSocket } from '../../lib/websocket.js';
import { closePayload, OP, parseFrames } from '../helpers/frames.js';
import { exchange, RawPeer } from '../helpers/raw-peer.js';
import { upgradeRequest } from '../helpers/http.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { connectHeaders, rawSession } from '../http2/helpers.js';
import { closeFrameOf, connectRaw, serve, type Served } from './helpers.js';

/** `n` raw peers, connected one after another (the server closes them in this order), each answering the close. */
async function crowd(s: Served, n: number): Promise<Array<{ peer: RawPeer; ws: WebSocket; frame: Promise<Buffer | undefined> }>> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const c = await connectRaw(s);
    const frame = closeFrameOf(c.peer).then(async (payload) => {
      await c.peer.send({ opcode: OP.CLOSE, payload: closePayload(1000) });
      return payload;
    });
    out.push({ ...c, frame });
  }
  return out;
}

function closedCount(conns: Array<{ ws: WebSocket }>): number {
  return conns.filter((c) => c.ws.readyState !== WebSocket.OPEN).length;
}

t.test('drainPlan: at most one batch per 100 ms, at least one connection per batch, evenly spaced', async (t) => {
  t.equal(MIN_DRAIN_INTERVAL, 100);
  t.same(drainPlan(0, 1000), { batches: 0, interval: 0 });
  t.same(drainPlan(10, 1000), { batches: 10, interval: 100 });
  t.same(drainPlan(25, 500), { batches: 5, interval: 100 });
  t.same(drainPlan(3, 900), { batches: 3, interval: 300 });
  t.same(drainPlan(1000, 30_000), { batches: 300, interval: 100 });
  t.same(drainPlan(5, 50), { batches: 1, interval: 50 }, 'a window under 100 ms: one batch');
  t.same(drainPlan(5, 0), { batches: 1, interval: 0 }, 'over: 0 closes all at once');
});

t.test('10 connections over 1 s: one every 100 ms, each gets exactly 1012; resolves when all are gone', async (t) => {
  const s = await serve(t);
  const conns = await crowd(s, 10);
  let resolved = false;
  const drained = s.wss.drain({ code: 1012, over: 1000 }).then(() => (resolved = true));
  t.equal(closedCount(conns), 1, 'the first batch at once');
  for (let k = 1; k < 10; k++) {
    s.clock.advance(99);
    t.equal(closedCount(conns), k, `still ${k} closed at ${k * 100 - 1} ms`);
    s.clock.advance(1);
    t.equal(closedCount(conns), k + 1, `${k + 1} closed at ${k * 100} ms`);
    if (k === 5) {
      await Promise.all(conns.slice(0, 6).map((c) => c.frame));
      t.equal(resolved, false, 'not resolved while connections remain');
    }
  }
  t.equal(s.clock.active, 0, 'the batch timer stopped after the last batch');
  for (const c of conns) t.same(await c.frame, closePayload(1012), 'exact close frame');
  await drained;
  t.equal(s.wss.clients.size, 0);
});

t.test('25 connections over 500 ms: 5 batches of 5; reason and retry-after hint', async (t) => {
  const s = await serve(t);
  const conns = await crowd(s, 25);
  const drained = s.wss.drain({ over: 500, reason: 'deploy', retryAfter: 10 });
  const seen = [closedCount(conns)];
  for (let k = 1; k < 5; k++) {
    s.clock.advance(100);
    seen.push(closedCount(conns));
  }
  t.same(seen, [5, 10, 15, 20, 25]);
  for (const c of conns) t.same(await c.frame, closePayload(1012, 'deploy retry-after=10'), 'default code 1012');
  await drained;
});

t.test('3 connections over 1 s: at 0, 333.3 and 666.7 ms', async (t) => {
  const s = await serve(t);
  const conns = await crowd(s, 3);
  const drained = s.wss.drain({ code: 1013, over: 1000 });
  const seen = [closedCount(conns)];
  for (const step of [333, 1, 332, 1]) {
    s.clock.advance(step);
    seen.push(closedCount(conns));
  }
  t.same(seen, [1, 1, 2, 2, 3]);
  for (const c of conns) t.same(await c.frame, closePayload(1013));
  await drained;
});

t.test('draining 0 connections resolves without the clock moving', async (t) => {
  const s = await serve(t);
  const closeEvent = once(s.wss, 'close');
  await s.wss.drain({ over: 60_000 });
  await closeEvent;
  t.equal(s.clock.now(), 1_000_000, 'no time passed on the manual clock');
});

t.test('during a drain the listener is closed: new connections are refused by the kernel', async (t) => {
  const s = await serve(t);
  const conns = await crowd(s, 2);
  const drained = s.wss.drain({ over: 1000 });
  const err = await RawPeer.connect(s.port).then(() => null, (e: NodeJS.ErrnoException) => e);
  t.equal(err?.code, 'ECONNREFUSED');
  s.clock.advance(500);
  for (const c of conns) await c.frame;
  await drained;
});

t.test('attached mode: upgrades during a drain get 503; the application\'s HTTP server stays up', async (t) => {
  const server = http.createServer((_req, res) => res.end('ok'));
  const clock = new ManualClock();
  const wss = new WebSocketServer({ server, keepAliveInterval: 0, clock });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as import('node:net').AddressInfo).port;
  const connection = once(wss, 'connection');
  const peer = await RawPeer.upgrade(port);
  const [ws] = (await connection) as [WebSocket];
  const frame = closeFrameOf(peer);
  ws.on('close', () => {});
  const rejected = once(wss, 'rejected');
  const drained = wss.drain({ over: 10_000 });
  const raw = await exchange(port, upgradeRequest({}));
  t.match(raw.toString('latin1'), /^HTTP\/1\.1 503 /, 'a new upgrade: 503');
  t.equal(((await rejected) as [number])[0], 503);
  t.same(await frame, closePayload(1012), 'the one open connection is in the first batch');
  await peer.send({ opcode: OP.CLOSE, payload: closePayload(1012) });
  await drained;
});

t.test('a connection that never answers the close is terminated after closeTimeout', async (t) => {
  const s = await serve(t, { closeTimeout: 100 });
  const { peer, ws } = await connectRaw(s);
  const closed = once(ws, 'close');
  await s.wss.drain({ over: 0 });
  t.same(peer.closeFrame?.payload, closePayload(1012), 'the close frame was sent');
  t.equal(((await closed) as [number])[0], 1006, 'terminated: no closing handshake');
  await peer.waitRemoteClosed();
});

t.test('close() during a drain closes the rest at once with its own code', async (t) => {
  const s = await serve(t);
  const conns = await crowd(s, 4);
  const drained = s.wss.drain({ over: 1000 });
  t.equal(closedCount(conns), 1);
  const closed = s.wss.close({ code: 1001, reason: 'now' });
  t.equal(closedCount(conns), 4);
  t.same(await conns[0]!.frame, closePayload(1012));
  for (const c of conns.slice(1)) t.same(await c.frame, closePayload(1001, 'now'));
  await closed;
  await drained;
  t.equal(s.wss.drain({ over: 5 }), s.wss.close(), 'drain after close returns the close promise');
});

t.test('drain checks its options before stopping anything', async (t) => {
  const s = await serve(t);
  for (const bad of [{}, { over: -1 }, { over: Infinity }, { over: 10, code: 1006 }, { over: 10, retryAfter: -3 }]) {
    t.throws(() => s.wss.drain(bad as never), InvalidArgumentError, JSON.stringify(bad));
  }
  const { ws } = await connectRaw(s);
  t.equal(ws.readyState, WebSocket.OPEN, 'still accepting');
});

t.test('HTTP/2: the session gets GOAWAY, its WebSocket stream the close frame, a new stream is impossible', async (t) => {
  const s = await serve(t, { http2: true });
  const session = await rawSession(t, s.port);
  const stream = session.request(connectHeaders(), { endStream: false });
  const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
  t.equal(headers[':status'], 200);
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const goaway = once(session, 'goaway');
  const drained = s.wss.drain({ over: 1000 });
  const [code] = (await goaway) as [number];
  t.equal(code, http2.constants.NGHTTP2_NO_ERROR, 'GOAWAY NO_ERROR');
  while (parseFrames(Buffer.concat(chunks)).length === 0) await once(stream, 'data');
  const [frame] = parseFrames(Buffer.concat(chunks));
  t.equal(frame!.opcode, OP.CLOSE);
  t.same(frame!.payload, closePayload(1012), 'exact close frame on the stream');
  t.throws(() => session.request(connectHeaders()), 'no new stream after GOAWAY');
  stream.write(Buffer.from([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xf4 ^ 2]));
  await drained;
});
