// examples/chat against Redis (`--redis URL`, the README's command): two chat processes on one
// real redis-server, a member on each; every line reaches both exactly once, its sender's own
// included (test/helpers/exactly-once.ts: markers, no sleeping). When each process's SUBSCRIBE
// is in place is read from Redis itself (MONITOR shows each command as Redis runs it).
import t from 'tap';
import { createClient } from 'redis';
import { exchange } from '../helpers/exactly-once.js';
import { redisServer, REDIS_SKIP } from '../helpers/redis-server.js';
import { member } from './chat-member.js';
import { startExample } from './start.js';

const ROOM = 'across';
const CHANNEL = `rfcws:room:${ROOM}`;

t.test('--redis: members of one room on two chat processes get every line exactly once', { skip: REDIS_SKIP }, async (t) => {
  const redis = await redisServer(t);

  // Resolves the n-th SUBSCRIBE of the room's channel, in the order Redis ran them.
  const monitor = createClient({ url: redis.url });
  monitor.on('error', () => {});
  await monitor.connect();
  t.teardown(() => monitor.close());
  const subscribes: string[] = [];
  const waiting: { n: number; resolve: () => void }[] = [];
  await monitor.monitor((line: string) => {
    if (!line.toLowerCase().includes(`"subscribe" "${CHANNEL}"`)) return;
    subscribes.push(line);
    for (const w of waiting.filter((w) => w.n <= subscribes.length)) waiting.splice(waiting.indexOf(w), 1), w.resolve();
  });
  const subscribed = (n: number): Promise<void> =>
    subscribes.length >= n ? Promise.resolve() : new Promise((resolve) => waiting.push({ n, resolve }));

  const ready = /Chat on (http:\/\/\S+?)\/ .* with Redis at (\S+)\n/;
  const [one, two] = await Promise.all([0, 1].map(() => startExample(t, 'chat', ready, {}, ['--redis', redis.url])));
  t.equal(one!.match[2], redis.url, 'the banner names the Redis it joined');
  const [originA, originB] = [one!.match[1]!, two!.match[1]!];
  t.not(originA, originB, 'two processes, two ports');
  const url = (origin: string): string => `${origin.replace('http', 'ws')}/ws?room=${ROOM}`;

  // One member at a time, each after its process's SUBSCRIBE ran in Redis: from then on that
  // process gets what the other publishes, so A must see B's "joined".
  const a = await member(t, url(originA), originA);
  await subscribed(1);
  const b = await member(t, url(originB), originB);
  await subscribed(2);
  t.ok(a.pid !== undefined && b.pid !== undefined && a.pid !== b.pid, `two processes: "${a.joined}" and "${b.joined}"`);
  await a.e.until(b.joined);

  const r = await exchange(a.e, b.e);
  t.same(r.a, r.expectedA, 'the member on the first process: each line once, its own included');
  t.same(r.b, r.expectedB, 'the member on the second process: each line once, its own included');
  t.same(a.e.received.filter((l) => l === b.joined), [b.joined], 'the other process\'s "joined" came once');
  t.equal(subscribes.length, 2, 'each process subscribed to the room once');
  t.notMatch(one!.output() + two!.output(), /rooms: |redis: /, 'no broker or Redis error was printed');
});
