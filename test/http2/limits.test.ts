// Bounds over HTTP/2: the send queue against a peer that stops reading, the stream cap, the per-stream deadline.
import { once } from 'node:events';
import * as http2 from 'node:http2';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import type { HandshakeError } from '../../lib/errors.js';
import { WebSocketServer } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';
import { failure } from '../helpers/failure.js';
import { closeOf, echoServer, nextMessage, rawSession, until } from './helpers.js';

t.test('a peer that stops reading: flow control stalls the stream, maxSendQueue closes it (1008), its neighbour goes on', async (t) => {
  const MAX = 256 * 1024;
  const { server, url } = await echoServer(t, { maxSendQueue: MAX, sendHighWaterMark: 32 * 1024, closeTimeout: 300 });
  const serverSide: WebSocket[] = [];
  server.on('connection', (ws) => serverSide.push(ws));
  const stalled = await connect(url, { http: '2', keepAliveInterval: 0 });
  const neighbour = await connect(url, { http: '2', keepAliveInterval: 0 });
  await until(() => serverSide.length === 2);
  stalled.pause();
  const victim = serverSide[0]!;
  const errors: string[] = [];
  victim.on('error', (err) => errors.push((err as { code?: string }).code ?? ''));
  const closed = closeOf(victim);
  const chunk = Buffer.alloc(16 * 1024, 1);
  let most = 0;
  let accepted = 0;
  while (victim.readyState === victim.OPEN && accepted < 2000) {
    victim.send(chunk);
    accepted++;
    most = Math.max(most, victim.bufferedAmount);
    if (accepted % 8 === 0) await new Promise((r) => setImmediate(r));
  }
  t.ok(accepted < 2000, `the send queue filled after ${accepted} sends of 16 KiB (the peer's window is 64 KiB)`);
  t.ok(most <= MAX, `bufferedAmount stayed within maxSendQueue (${most} <= ${MAX})`);
  t.same(errors, ['ERR_WS_SEND_QUEUE_FULL']);
  t.equal((await closed).code, 1008, 'closed with 1008');
  neighbour.send('next door');
  t.equal((await nextMessage(neighbour)).toString(), 'next door', 'the other WebSocket on the session is not blocked');
  stalled.terminate();
  neighbour.close();
  await closeOf(neighbour);
});

t.test('flow control: messages of many stream windows each way, on 8 WebSockets of one session at once', async (t) => {
  const { url } = await echoServer(t, {});
  const sockets = await Promise.all(Array.from({ length: 8 }, () => connect(url, { http: '2', keepAliveInterval: 0, maxPayload: 4 << 20 })));
  // node:http2's stream window is 64 KiB: each of these needs about 18 WINDOW_UPDATEs on its stream.
  const big = Buffer.alloc(1024 * 1024 + 100_000, 7);
  const echoes = await Promise.all(sockets.map(async (s, i) => {
    const msg = Buffer.from(big);
    msg.writeUInt32BE(i, 0);
    const got = await new Promise<Buffer[]>((resolve) => {
      const out: Buffer[] = [];
      s.on('message', (d: Buffer) => { out.push(d); if (out.length === 2) resolve(out); });
      s.send(msg);
      s.send(msg);
    });
    return got[0]!.equals(msg) && got[1]!.equals(msg);
  }));
  t.same(echoes, sockets.map(() => true), 'every WebSocket got both of its messages back intact');
  for (const s of sockets) s.close(1000);
  t.same((await Promise.all(sockets.map((s) => closeOf(s)))).map((c) => c.code), sockets.map(() => 1000), 'each closes cleanly');
});

t.test('the stream cap: advertised in SETTINGS standalone; over it, 503', async (t) => {
  const { port } = await echoServer(t, { maxConcurrentStreams: 2 });
  const session = await rawSession(t, port);
  t.equal(session.remoteSettings.maxConcurrentStreams, 2, 'SETTINGS_MAX_CONCURRENT_STREAMS = maxConcurrentStreams');
  session.destroy();

  // An application's server advertises its own (larger) limit: the cap is enforced per session by counting.
  const app = http2.createServer();
  const wss = new WebSocketServer({ server: app, maxConcurrentStreams: 2, keepAliveInterval: 0 });
  const rejected: number[] = [];
  wss.on('rejected', (status) => rejected.push(status));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  t.teardown(() => { void wss.close(200); app.close(); });
  const url = `ws://127.0.0.1:${(app.address() as { port: number }).port}/`;
  const a = await connect(url, { http: '2', keepAliveInterval: 0 });
  const b = await connect(url, { http: '2', keepAliveInterval: 0 });
  const err = await failure<HandshakeError>(connect(url, { http: '2', keepAliveInterval: 0 }));
  t.equal(err.code, 'ERR_WS_UPGRADE_STATUS');
  t.equal(err.status, 503);
  t.match(err.body?.toString(), /limit 2/);
  t.same(rejected, [503]);
  a.close();
  await closeOf(a);
  const c = await connect(url, { http: '2', keepAliveInterval: 0 });
  t.equal(c.httpVersion, '2', 'a slot freed by a close is usable again');
  b.terminate();
  c.terminate();
});

t.test('handshake deadline per stream: authorize still pending gets 503, the session goes on', async (t) => {
  let release: (() => void) | undefined;
  const { url } = await echoServer(t, {
    handshakeTimeout: 200,
    authorize: (req) => (req.path === '/slow' ? new Promise<boolean>((r) => { release = () => r(true); }) : true),
  });
  const err = await failure<HandshakeError>(connect(`${url}slow`, { http: '2', keepAliveInterval: 0 }));
  t.equal(err.status, 503);
  t.match(err.body?.toString(), /in time/);
  release?.();
  const ws = await connect(`${url}fast`, { http: '2', keepAliveInterval: 0 });
  t.equal(ws.httpVersion, '2');
  ws.close();
  await once(ws, 'close');
});
