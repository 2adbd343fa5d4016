// Accept-then-close from authorize, and server.close() with a chosen code and the retry-after hint, over real sockets.
import t from 'tap';
import { once } from 'node:events';
import { WebSocket as UndiciWebSocket } from 'undici';
import { connect } from '../../lib/client/client.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { parseRetryAfter } from '../../lib/protocol/retry-after.js';
import type { WebSocket } from '../../lib/websocket.js';
import { closePayload, OP } from '../helpers/frames.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { closeFrameOf, closeOf, connectRaw, serve } from './helpers.js';

t.test('accept-then-close: 101, then exactly that close frame, then TCP closes; not announced', async (t) => {
  const s = await serve(t, { authorize: () => ({ accept: false, closeCode: 4003, closeReason: 'bad token' }) });
  s.wss.on('connection', () => t.fail('must not be announced'));
  const peer = await RawPeer.upgrade(s.port);
  t.match(peer.head, /^HTTP\/1\.1 101 Switching Protocols\r\n/, 'the upgrade completed');
  t.same(await closeFrameOf(peer), closePayload(4003, 'bad token'), 'exact close frame');
  t.equal(peer.frames.length, 1, 'nothing but the close frame');
  await peer.send({ opcode: OP.CLOSE, payload: closePayload(4003) });
  await peer.waitRemoteClosed();
  t.equal(s.rejected.length, 1);
  t.equal(s.rejected[0]![0], 101, "'rejected' with the status sent");
  t.match(s.rejected[0]![2].message, /4003 'bad token'/);
});

t.test('accept-then-close without a reason sends the bare code; authorize headers still go on the 101', async (t) => {
  const s = await serve(t, { authorize: () => ({ accept: false, closeCode: 4999, headers: { 'X-Why': 'revoked' } }) });
  const peer = await RawPeer.upgrade(s.port);
  t.match(peer.head, /\r\nX-Why: revoked\r\n/i);
  t.same(await closeFrameOf(peer), closePayload(4999));
});

t.test('accept-then-close with a code outside 4000-4999 or a long reason: 500, the InvalidArgumentError as cause', async (t) => {
  for (const bad of [{ closeCode: 1000 }, { closeCode: 3000 }, { closeCode: 5000 }, { closeCode: 4000.5 }, { closeCode: 4000, closeReason: 'x'.repeat(124) }]) {
    const s = await serve(t, { authorize: () => ({ accept: false, ...bad }) });
    const peer = await RawPeer.connect(s.port);
    await peer.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    t.match(await peer.readHead(), /^HTTP\/1\.1 500 /, JSON.stringify(bad));
    t.type((s.rejected[0]![2] as Error & { cause?: unknown }).cause, InvalidArgumentError);
  }
});

t.test('accept-then-close over HTTP/2: the client opens, then sees the code and reason', async (t) => {
  const s = await serve(t, { http2: true, authorize: () => ({ accept: false, closeCode: 4401, closeReason: 'login required' }) });
  const client = await connect(`ws://127.0.0.1:${s.port}/`, { http: '2', keepAliveInterval: 0 });
  t.equal(client.httpVersion, '2');
  t.same(await closeOf(client), { code: 4401, reason: 'login required', wasClean: true });
  t.equal(s.rejected[0]![0], 101);
});

t.test('the browser-compatible client sees the accept-then-close code too', async (t) => {
  const s = await serve(t, { authorize: () => ({ accept: false, closeCode: 4010, closeReason: 'expired' }) });
  const ws = new UndiciWebSocket(`ws://127.0.0.1:${s.port}/`);
  const ev = await new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener('close', (e: { code: number; reason: string }) => resolve({ code: e.code, reason: e.reason })));
  t.same(ev, { code: 4010, reason: 'expired' }, "Node's WHATWG WebSocket (undici)");
});

t.test('server.close({ code, retryAfter }) sends that code and the hint to every client', async (t) => {
  const s = await serve(t);
  const a = await connectRaw(s);
  const b = await connectRaw(s);
  const closed = s.wss.close({ code: 1013, retryAfter: 30 });
  for (const { peer } of [a, b]) {
    const payload = await closeFrameOf(peer);
    t.same(payload, closePayload(1013, 'retry-after=30'), 'exact close frame');
    t.equal(parseRetryAfter(payload!.subarray(2).toString()), 30);
    await peer.send({ opcode: OP.CLOSE, payload: closePayload(1013) });
  }
  await closed;
  t.equal(s.wss.clients.size, 0);
});

t.test('server.close({ code: 1012, reason, retryAfter }): the hint follows the reason; clients read it', async (t) => {
  const s = await serve(t);
  const connection = once(s.wss, 'connection');
  const client = await connect(`ws://127.0.0.1:${s.port}/`, { keepAliveInterval: 0 });
  await connection;
  const closed = closeOf(client);
  await s.wss.close({ code: 1012, reason: 'deploy', retryAfter: 5 });
  const ev = await closed;
  t.same(ev, { code: 1012, reason: 'deploy retry-after=5', wasClean: true });
  t.equal(parseRetryAfter(ev.reason), 5);
});

t.test('server.close() and close(ms) keep sending 1001 "Server shutting down"', async (t) => {
  for (const arg of [undefined, 200, { timeout: 200 }]) {
    const s = await serve(t);
    const { peer } = await connectRaw(s);
    const closed = arg === undefined ? s.wss.close() : s.wss.close(arg);
    t.same(await closeFrameOf(peer), closePayload(1001, 'Server shutting down'), JSON.stringify(arg));
    await peer.send({ opcode: OP.CLOSE, payload: closePayload(1001) });
    await closed;
  }
});

t.test('server.close with a custom code and no reason sends the bare code; HTTP/2 clients get it too', async (t) => {
  const s = await serve(t, { http2: true });
  const connection = once(s.wss, 'connection');
  const client = await connect(`ws://127.0.0.1:${s.port}/`, { http: '2', keepAliveInterval: 0 });
  const [ws] = (await connection) as [WebSocket];
  t.equal(ws.httpVersion, '2');
  const closed = closeOf(client);
  await s.wss.close({ code: 1012 });
  t.same(await closed, { code: 1012, reason: '', wasClean: true });
});

t.test('server.close with a bad code, reason or retryAfter throws and does not start closing', async (t) => {
  const s = await serve(t);
  const { ws } = await connectRaw(s);
  for (const bad of [{ code: 1005 }, { code: 999 }, { reason: 'x'.repeat(124) }, { retryAfter: -1 }, { retryAfter: 1.5 }, { timeout: -1 }]) {
    t.throws(() => s.wss.close(bad), InvalidArgumentError, JSON.stringify(bad));
  }
  t.equal(ws.readyState, ws.OPEN, 'nothing closed');
  const again = await connectRaw(s);
  t.equal(again.ws.readyState, again.ws.OPEN, 'still accepting');
});
