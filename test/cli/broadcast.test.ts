// rfcws serve --broadcast across processes: with --workers 2 two clients on different workers,
// with --redis two servers on one real redis-server; each gets every message exactly once, the
// sender included (test/helpers/exactly-once.ts: markers, no sleeping).
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import type { WebSocket } from '../../lib/websocket.js';
import { endpoint, exchange, type Endpoint } from '../helpers/exactly-once.js';
import { redisServer, REDIS_SKIP } from '../helpers/redis-server.js';
import { serveCli, stop, type Test } from './helpers.js';

const quiet = { keepAliveInterval: 0 };

/** Counts the lines of `out` that match `re`. */
const count = (out: string, re: RegExp): number => [...out.matchAll(new RegExp(re.source, 'g'))].length;

async function client(t: Test, url: string): Promise<{ ws: WebSocket; e: Endpoint }> {
  const ws = await connect(url, quiet);
  t.teardown(() => ws.terminate());
  return { ws, e: endpoint(ws) };
}

t.test('--broadcast --workers 2: clients on different workers get each message exactly once', async (t) => {
  const server = await serveCli(t, ['--broadcast', '--workers', '2']);
  // Connections one at a time, each waiting for its "open" line: the n-th line is the n-th client.
  const first = new Map<string, Endpoint>();
  for (let n = 1; first.size < 2 && n <= 10; n++) {
    const c = await client(t, server.url);
    const [, worker] = await server.waitOut(new RegExp(`(?:worker \\d open  [^]*?){${n - 1}}worker (\\d) open  `));
    if (first.has(worker!)) c.ws.terminate();
    else first.set(worker!, c.e);
  }
  t.same([...first.keys()].sort(), ['1', '2'], 'one client on each worker (the log says which)');
  // Each worker logs when the relay has its subscription: from then on the other worker's messages arrive.
  await server.waitOut(/worker 1 broker subscribed to topic "broadcast"[^]*worker 2 broker|worker 2 broker subscribed to topic "broadcast"[^]*worker 1 broker subscribed/);
  const r = await exchange(first.get('1')!, first.get('2')!);
  t.same(r.a, r.expectedA, 'the client on worker 1: each message once, its own included');
  t.same(r.b, r.expectedB, 'the client on worker 2: each message once, its own included');
  t.equal(count(server.out(), /broker error/), 0, 'no broker errors');
  t.equal(await stop(server), 0);
});

t.test('--broadcast --redis: two servers on one redis-server, each message exactly once on both', { skip: REDIS_SKIP }, async (t) => {
  const redis = await redisServer(t);
  const one = await serveCli(t, ['--broadcast', '--redis', redis.url]);
  const two = await serveCli(t, ['--broadcast', '--redis', redis.url]);
  t.not(one.url, two.url, 'two ports');
  const a = await client(t, one.url);
  const b = await client(t, two.url);
  await Promise.all([one, two].map((s) => s.waitOut(/broker subscribed to topic "broadcast"/)));
  const r = await exchange(a.e, b.e);
  t.same(r.a, r.expectedA, 'the client of the first server: each message once, its own included');
  t.same(r.b, r.expectedB, 'the client of the second server: each message once, its own included');
  t.equal(await stop(one), 0);
  t.equal(await stop(two), 0);
});
