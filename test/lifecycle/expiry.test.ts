// Session expiry over real sockets on a manual clock: authorize's expiresAt and ws.expireAt().
import t from 'tap';
import { once } from 'node:events';
import { connect } from '../../lib/client/client.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { WebSocket } from '../../lib/websocket.js';
import { closePayload } from '../helpers/frames.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { closeFrameOf, closeOf, connectRaw, serve } from './helpers.js';

t.test('authorize expiresAt: the connection closes at that time with 4001 "session expired"', async (t) => {
  let expiresAt = 0;
  const s = await serve(t, { authorize: () => ({ accept: true, expiresAt: (expiresAt = s.clock.now() + 60_000) }) });
  const { peer, ws } = await connectRaw(s);
  t.equal(s.clock.active, 1, 'one timer for the connection');
  s.clock.advance(59_999);
  t.equal(ws.readyState, WebSocket.OPEN, 'still open 1 ms before');
  s.clock.advance(1);
  t.equal(s.clock.now(), expiresAt);
  t.equal(ws.readyState, WebSocket.CLOSING, 'closing at the time');
  t.same(await closeFrameOf(peer), closePayload(4001, 'session expired'), 'exact close frame');
  t.equal(s.clock.active, 0, 'the timer is gone');
});

t.test('authorize expiresAt as a Date, with its own code and reason', async (t) => {
  const s = await serve(t, {
    authorize: () => ({ accept: true, expiresAt: new Date(s.clock.now() + 1000), closeCode: 4401, closeReason: 'token expired' }),
  });
  const { peer } = await connectRaw(s);
  s.clock.advance(1000);
  t.same(await closeFrameOf(peer), closePayload(4401, 'token expired'));
});

t.test('ws.expireAt replaces the deadline (one timer), null cancels it', async (t) => {
  const s = await serve(t, { authorize: () => ({ accept: true, expiresAt: s.clock.now() + 1000 }) });
  const { peer, ws } = await connectRaw(s);
  ws.expireAt(s.clock.now() + 5000, 4003, 'logged out');
  t.equal(s.clock.active, 1, 'still one timer');
  s.clock.advance(1000);
  t.equal(ws.readyState, WebSocket.OPEN, 'the earlier deadline no longer applies');
  ws.expireAt(null);
  t.equal(s.clock.active, 0, 'cancelled');
  s.clock.advance(10_000);
  t.equal(ws.readyState, WebSocket.OPEN);
  ws.expireAt(s.clock.now() + 10, 4003, 'logged out');
  s.clock.advance(10);
  t.same(await closeFrameOf(peer), closePayload(4003, 'logged out'));
});

t.test('a date already past closes at once; a default code with no reason given uses the documented one', async (t) => {
  const s = await serve(t);
  const { peer, ws } = await connectRaw(s);
  ws.expireAt(new Date(s.clock.now() - 1));
  t.equal(ws.readyState, WebSocket.CLOSING, 'closed synchronously');
  t.equal(s.clock.active, 0, 'no timer');
  t.same(await closeFrameOf(peer), closePayload(4001, 'session expired'));
});

t.test('the timer is cleared when the connection closes first', async (t) => {
  const s = await serve(t);
  const { peer, ws } = await connectRaw(s);
  ws.expireAt(s.clock.now() + 60_000);
  t.equal(s.clock.active, 1);
  const closed = closeOf(ws);
  peer.socket.destroy();
  t.equal((await closed).code, 1006);
  t.equal(s.clock.active, 0, 'cleared on close');
});

t.test('deadlines past the 2^31-1 ms a Node timer can wait are reached in several waits', async (t) => {
  const s = await serve(t);
  const { peer, ws } = await connectRaw(s);
  const week4 = 28 * 24 * 3600 * 1000;
  ws.expireAt(s.clock.now() + week4);
  s.clock.advance(2 ** 31 - 1);
  t.equal(ws.readyState, WebSocket.OPEN, 'not at the first wait');
  t.equal(s.clock.active, 1, 'a second wait');
  s.clock.advance(week4 - (2 ** 31 - 1) - 1);
  t.equal(ws.readyState, WebSocket.OPEN);
  s.clock.advance(1);
  t.same(await closeFrameOf(peer), closePayload(4001, 'session expired'));
});

t.test('expireAt checks its arguments like close() and is a no-op once closing', async (t) => {
  const s = await serve(t);
  const { ws } = await connectRaw(s);
  t.throws(() => ws.expireAt(new Date('nope')), InvalidArgumentError, 'invalid Date');
  t.throws(() => ws.expireAt(Number.NaN), InvalidArgumentError, 'NaN');
  t.throws(() => ws.expireAt('2030-01-01' as unknown as number), InvalidArgumentError, 'a string');
  t.throws(() => ws.expireAt(s.clock.now() + 1, 1005), InvalidArgumentError, 'a code close() refuses');
  t.throws(() => ws.expireAt(s.clock.now() + 1, 4000, 'x'.repeat(124)), InvalidArgumentError, 'reason over 123 bytes');
  t.equal(s.clock.active, 0, 'nothing armed by the failed calls');
  ws.close(1000);
  ws.expireAt(s.clock.now() + 1);
  t.equal(s.clock.active, 0, 'no timer once closing');
  t.throws(() => ws.expireAt(Number.NaN), InvalidArgumentError, 'still checked once closing');
});

t.test('authorize expiresAt already past: the 101, then the close frame; not announced', async (t) => {
  const s = await serve(t, { authorize: () => ({ accept: true, expiresAt: s.clock.now() - 5 }) });
  s.wss.on('connection', () => t.fail('must not be announced'));
  const peer = await RawPeer.upgrade(s.port);
  t.same(await closeFrameOf(peer), closePayload(4001, 'session expired'));
  t.equal(s.rejected.length, 1);
  t.equal(s.rejected[0]![0], 101, "reported on 'rejected' with the status that was sent");
});

t.test('authorize with an invalid expiresAt or expiry code is a 500 with the error as cause', async (t) => {
  for (const bad of [{ expiresAt: 'tomorrow' }, { expiresAt: 1, closeCode: 999 }, { expiresAt: 1, closeReason: 'é'.repeat(62) }]) {
    const s = await serve(t, { authorize: () => ({ accept: true, ...bad }) as never });
    const peer = await RawPeer.connect(s.port);
    await peer.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const head = await peer.readHead();
    t.match(head, /^HTTP\/1\.1 500 /, JSON.stringify(bad));
    t.equal(s.rejected[0]![0], 500);
    t.type((s.rejected[0]![2] as Error & { cause?: unknown }).cause, InvalidArgumentError);
  }
});

t.test('HTTP/2 (RFC 8441): the expiry closes the stream\'s WebSocket with the chosen code', async (t) => {
  const s = await serve(t, { http2: true, authorize: () => ({ accept: true, expiresAt: s.clock.now() + 30_000, closeCode: 4002, closeReason: 'bye' }) });
  const connection = once(s.wss, 'connection');
  const client = await connect(`ws://127.0.0.1:${s.port}/`, { http: '2', keepAliveInterval: 0 });
  const [ws] = (await connection) as [WebSocket];
  t.equal(ws.httpVersion, '2');
  const closed = closeOf(client);
  s.clock.advance(30_000);
  t.same(await closed, { code: 4002, reason: 'bye', wasClean: true }, 'the client sees the exact code and reason');
  t.equal(s.clock.active, 0);
});
