// maxPendingHandshakes: a crowd of clients that never finish their request head fills the
// budget; everyone past it is answered 503 (Retry-After: 1) at once, the crowd gets 408 at the
// deadline, memory stays bounded, and honest clients after them are served.
import * as net from 'node:net';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { HandshakeError } from '../../lib/errors.js';
import { DEFAULT_MAX_PENDING_HANDSHAKES } from '../../lib/handshake/pending-limit.js';
import type { WebSocket } from '../../lib/websocket.js';
import { connectHeaders, exchangeStream, rawSession } from '../http2/helpers.js';
import { listen, memoryWatch, mib, MiB, resources, settle, waitFor } from './helpers.js';

const MAX = 50;
const N = 300;

function slowClient(port: number): Promise<{ socket: net.Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (s: string) => (received += s));
    socket.on('error', () => {});
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () => {
      // A head that never ends.
      socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
      resolve({ socket, received: () => received, closed });
    });
    socket.once('error', reject);
  });
}

t.test('the default is documented and large enough for the slowloris suite', async (t) => {
  t.equal(DEFAULT_MAX_PENDING_HANDSHAKES, 4096);
});

t.test(`${N} slow clients against maxPendingHandshakes ${MAX}: ${N - MAX} get 503 at once, ${MAX} get 408, then honest clients are served`, async (t) => {
  // The deadline only has to outlast opening the crowd; nothing asserts how long anything took.
  const { wss, port } = await listen(t, { maxPendingHandshakes: MAX, handshakeTimeout: 4000 });
  wss.on('connection', (ws: WebSocket) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })));
  const statuses: number[] = [];
  wss.on('rejected', (status: number) => statuses.push(status));
  const before = resources();
  const mem = memoryWatch();
  const crowd = [];
  for (let i = 0; i < N; i += 50) crowd.push(...(await Promise.all(Array.from({ length: 50 }, () => slowClient(port)))));
  t.ok(wss.pendingHandshakes <= MAX, `at most ${MAX} handshakes held (${wss.pendingHandshakes})`);

  // While the budget is full, an honest client is told to come back.
  const err = await connect(`ws://127.0.0.1:${port}/`, { keepAliveInterval: 0 }).then(() => null, (e: unknown) => e);
  t.type(err, HandshakeError);
  t.equal((err as HandshakeError & { status?: number }).status, 503, 'refused with 503 while full');

  await Promise.all(crowd.map((c) => c.closed));
  const grew = mem.stop();
  const answers = crowd.map((c) => c.received().split('\r\n')[0]);
  t.equal(answers.filter((a) => a === 'HTTP/1.1 503 Service Unavailable').length, N - MAX, 'past the budget: 503');
  t.equal(answers.filter((a) => a === 'HTTP/1.1 408 Request Timeout').length, MAX, 'the budget itself: 408 at the deadline');
  t.ok(crowd.some((c) => /\r\nRetry-After: 1\r\n/i.test(c.received())), 'the 503 carries Retry-After: 1');
  t.equal(statuses.filter((s) => s === 503).length, N - MAX + 1, "'rejected' 503 for each, the honest one included");

  // After the crowd: served.
  const ws = await connect(`ws://127.0.0.1:${port}/`, { keepAliveInterval: 0 });
  ws.send('after the crowd');
  const reply = await new Promise<string>((r) => ws.once('message', (d: Buffer) => r(d.toString())));
  t.equal(reply, 'after the crowd');
  ws.close(1000);
  await new Promise((r) => ws.once('close', r));
  t.ok(await waitFor(() => wss.pendingHandshakes === 0, 5000), 'no handshake left');
  t.ok(grew.heap < 32 * MiB, `heap growth ${mib(grew.heap)}`);
  t.same(await settle(before), [], 'no socket or timer left behind');
});

t.test('HTTP/2 streams count against the same budget: past it, 503 on the stream', async (t) => {
  const hold: Array<() => void> = [];
  const { wss, port } = await listen(t, {
    http2: true,
    maxPendingHandshakes: 2,
    authorize: () => new Promise((resolve) => hold.push(() => resolve(true))),
  });
  const session = await rawSession(t, port);
  const open = (): Promise<number> => {
    const stream = session.request(connectHeaders(), { endStream: false });
    stream.on('error', () => {});
    return new Promise((resolve) => stream.once('response', (h) => resolve(Number(h[':status']))));
  };
  const a = open();
  const b = open();
  await waitFor(() => hold.length === 2, 5000);
  const c = await exchangeStream(session, connectHeaders());
  t.equal(c.status, 503, 'the third stream in flight is refused');
  t.equal(c.headers['retry-after'], '1');
  // An HTTP/1.1 handshake shares the budget.
  const err = await connect(`ws://127.0.0.1:${port}/`, { keepAliveInterval: 0 }).then(() => null, (e: unknown) => e);
  t.equal((err as { status?: number }).status, 503, 'an HTTP/1.1 upgrade too');
  for (const release of hold) release();
  t.equal(await a, 200, 'the held streams complete once authorized');
  t.equal(await b, 200);
  t.equal(wss.clients.size, 2);
});
