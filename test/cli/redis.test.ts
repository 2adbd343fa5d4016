// rfcws serve --redis <url>: connects a RedisBroker's two clients to a real redis-server (and
// closes them on SIGTERM), logs a Redis outage in a bounded number of lines however many
// publishes fail, refuses a URL that is not redis://, says when Redis is unreachable and when
// the redis package is missing.
import t from 'tap';
import { cpSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { connect } from '../../lib/client/client.js';
import { endpoint } from '../helpers/exactly-once.js';
import { redisServer, REDIS_SKIP } from '../helpers/redis-server.js';
import { run, serveCli, stop, tempDir } from './helpers.js';

/** The lines of `out` that match `re`. */
const linesOf = (out: string, re: RegExp): string[] => out.split('\n').filter((l) => re.test(l));

/** The names of the clients connected to Redis (CLIENT SETNAME), sorted. */
async function clientNames(url: string): Promise<string[]> {
  const c = createClient({ url });
  c.on('error', () => {});
  await c.connect();
  try {
    const list = String(await c.sendCommand(['CLIENT', 'LIST']));
    return [...list.matchAll(/ name=(rfcws-\S+)/g)].map((m) => m[1]!).sort();
  } finally {
    await c.close();
  }
}

t.test('--redis with a real redis-server', { skip: REDIS_SKIP }, async (t) => {
  const redis = await redisServer(t);

  t.test('connects a publisher and a subscriber, closes them on SIGTERM', async (t) => {
    const server = await serveCli(t, ['--redis', redis.url]);
    t.match(server.out(), new RegExp(`topics go through Redis at ${redis.url} \\(channels rfcws:<topic>\\)`));
    t.same(await clientNames(redis.url), ['rfcws-publisher', 'rfcws-subscriber']);
    t.equal(await stop(server), 0);
    t.same(await clientNames(redis.url), [], 'both clients closed');
  });

  t.test('with --workers 2, every worker has its own pair of clients', async (t) => {
    const server = await serveCli(t, ['--workers', '2', '--redis', redis.url]);
    t.match(server.out(), /worker 1 topics go through Redis/);
    t.match(server.out(), /worker 2 topics go through Redis/);
    t.same(await clientNames(redis.url), ['rfcws-publisher', 'rfcws-publisher', 'rfcws-subscriber', 'rfcws-subscriber']);
    t.equal(await stop(server), 0);
  });

  t.test('Redis stopped while many publishes fail: a bounded log, every failure counted, recovery once', async (t) => {
    const server = await serveCli(t, ['--broadcast', '--redis', redis.url]);
    const ws = await connect(server.url, { keepAliveInterval: 0 });
    t.teardown(() => ws.terminate());
    const e = endpoint(ws);
    await server.waitOut(/broker subscribed to topic "broadcast"/);

    await redis.stop();
    // The publisher has seen its connection go: from now on each publish fails at once.
    await server.waitOut(/redis publisher: /);
    const failing = 300;
    const started = Date.now();
    for (let i = 0; i < failing; i++) ws.send(`down ${i}`);
    // The local client still gets each one (server.publish delivers locally first).
    await e.until(`down ${failing - 1}`);
    await server.waitOut(new RegExp(`\\(${failing} in this outage\\)`));
    const seconds = Math.ceil((Date.now() - started) / 1000);
    const errors = linesOf(server.out(), /broker error /);
    t.match(errors[0], /^\S+ broker error ERR_WS_BROKER_UNAVAILABLE: broker publish on topic "broadcast" failed: /, 'the first failure, in full, at once');
    const counted = errors.slice(1).map((l) => Number(/: (\d+) more failed \(/.exec(l)?.[1]));
    t.equal(1 + counted.reduce((a, b) => a + b, 0), failing, `every failure counted: 1 + ${counted.join(' + ')}`);
    // One summary per second at most: the bound holds on a machine of any speed.
    t.ok(errors.length <= 2 + seconds, `${errors.length} broker error lines for ${failing} failures over at most ${seconds} s`);
    t.ok(linesOf(server.out(), /redis (publisher|subscriber): /).length <= 4, 'each Redis client logs its failing reconnects once (or when the error changes)');

    await redis.start();
    // Probes until one goes through (pacing, not an assertion); failed probes are counted too.
    let probes = 0;
    while (!/broker recovered/.test(server.out()) && probes < 300) {
      ws.send(`probe ${probes}`);
      await e.until(`probe ${probes++}`);
      await sleep(100);
    }
    const [recovered] = await server.waitOut(/broker recovered: publish on topic "broadcast" went through, after (\d+) failed operations/);
    const total = Number(/after (\d+) failed/.exec(recovered)![1]);
    t.ok(total >= failing && total < failing + probes, `the recovery line counts the ${failing} and the failed probes: ${total} (${probes} probes)`);

    // Later publishes go through without another line: a plain subscriber on the channel sees them.
    const spy = createClient({ url: redis.url });
    spy.on('error', () => {});
    await spy.connect();
    t.teardown(() => spy.close());
    const seen: string[] = [];
    let done!: () => void;
    const last = new Promise<void>((resolve) => (done = resolve));
    await spy.subscribe('rfcws:broadcast', (m: Buffer) => {
      const text = m.toString();
      seen.push(text);
      if (text.endsWith('after 19')) done();
    }, true);
    for (let i = 0; i < 20; i++) ws.send(`after ${i}`);
    await last;
    t.equal(seen.filter((m) => m.includes('after ')).length, 20, 'all 20 reached Redis');
    t.equal(linesOf(server.out(), /broker recovered/).length, 1, 'recovery was logged once');
    const afterRecovery = server.out().slice(server.out().indexOf('broker recovered'));
    t.same(linesOf(afterRecovery, /broker error /), [], 'no broker error after the recovery');
    t.equal(await stop(server), 0);
  });
});

t.test('--redis with something that is not a redis:// URL: a usage error, exit 2', async (t) => {
  for (const bad of ['http://127.0.0.1:6379', 'localhost:6379', 'redis://']) {
    const r = run(t, ['serve', '--port', '0', '--redis', bad]);
    t.equal(await r.exited, 2, bad);
    t.equal(r.err(), `rfcws serve: --redis takes a redis:// or rediss:// URL such as redis://127.0.0.1:6379 (got "${bad}") (see rfcws serve --help)\n`);
  }
});

t.test('--redis with nothing listening there: one line saying so, exit 1', async (t) => {
  const r = run(t, ['serve', '--port', '0', '--redis', 'redis://127.0.0.1:1']);
  t.equal(await r.exited, 1);
  t.match(r.err(), /^rfcws: cannot connect to Redis at redis:\/\/127\.0\.0\.1:1: connect ECONNREFUSED 127\.0\.0\.1:1\n$/);
});

/** Where `redis` resolves from inside the temp directory (a node_modules above it, e.g. /tmp/node_modules), or null. */
function redisAboveTmp(): string | null {
  try { return createRequire(join(tmpdir(), 'rfcws-cli-x', 'cli.js')).resolve('redis'); } catch { return null; }
}

t.test('--redis without the redis package installed: says to npm install redis, exit 2', {
  skip: redisAboveTmp() === null ? false : `redis resolves from ${tmpdir()} (${redisAboveTmp()}): a node_modules above the temp directory lends it one`,
}, async (t) => {
  // The built CLI copied where no node_modules is within reach.
  const dir = tempDir(t);
  cpSync(fileURLToPath(new URL('../../lib', import.meta.url)), join(dir, 'lib'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
  const child = spawn(process.execPath, [join(dir, 'lib', 'cli.js'), 'serve', '--port', '0', '--redis', 'redis://127.0.0.1:6379'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  t.equal(code, 2);
  t.equal(err, 'rfcws serve: --redis needs the redis package beside rfcws: npm install redis (see rfcws serve --help)\n');
});
