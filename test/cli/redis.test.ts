// rfcws serve --redis <url>: connects a RedisBroker's two clients to a real redis-server (and
// closes them on SIGTERM), refuses a URL that is not redis://, says when Redis is unreachable
// and when the redis package is missing.
import t from 'tap';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { createClient } from 'redis';
import { redisServer, REDIS_SKIP } from '../helpers/redis-server.js';
import { run, serveCli, stop, tempDir } from './helpers.js';

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

t.test('--redis without the redis package installed: says to npm install redis, exit 2', async (t) => {
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
