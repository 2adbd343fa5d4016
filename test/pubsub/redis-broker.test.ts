// RedisBroker against a real redis-server: two RedisBrokers in two child processes (each with
// its own `redis` clients) pass the broker contract; Redis restarting mid-test makes publishes
// fail (every one of them, counted) and the subscriptions come back once it returns.
import t from 'tap';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { RedisBroker } from '../../lib/pubsub/redis-broker.js';
import { redisServer, REDIS_SKIP, type RedisServer } from '../helpers/redis-server.js';
import { brokerContract, Inbox } from './contract.js';
import { RemoteBroker, RemoteError } from './remote-broker.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

const FIXTURE = fileURLToPath(new URL('./fixtures/broker-peer.js', import.meta.url));

/** The client packages RedisBroker is run on: each child makes its own clients of one of them. */
const CLIENTS = ['redis', 'ioredis'] as const;
type ClientPackage = (typeof CLIENTS)[number];

async function child(t: Test, url: string, client: ClientPackage): Promise<{ broker: RemoteBroker; process: ChildProcess }> {
  const c = fork(FIXTURE, [client, url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  t.teardown(async () => {
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = once(c, 'exit');
    c.kill('SIGKILL');
    await exited;
  });
  const broker = new RemoteBroker(c);
  await broker.ready;
  return { broker, process: c };
}

/** PUBSUB NUMSUB through a client of the test's own. */
async function numsub(t: Test, redis: RedisServer): Promise<(topic: string) => Promise<number>> {
  const client = createClient({ url: redis.url });
  client.on('error', () => {});
  await client.connect();
  t.teardown(() => client.close());
  return async (topic) => {
    const reply = (await client.sendCommand(['PUBSUB', 'NUMSUB', `rfcws:${topic}`])) as [string, number];
    return Number(reply[1]);
  };
}

/** How many PUBLISH commands Redis has run since it started (INFO commandstats). */
async function publishCalls(redis: RedisServer): Promise<number> {
  const client = createClient({ url: redis.url });
  client.on('error', () => {});
  await client.connect();
  try {
    return Number(/cmdstat_publish:calls=(\d+)/.exec(await client.info('commandstats'))?.[1] ?? 0);
  } finally {
    await client.close();
  }
}

t.test('RedisBroker with a real redis-server', { skip: REDIS_SKIP }, async (t) => {
  const redis = await redisServer(t);

  for (const client of CLIENTS) {
    t.test(`the broker contract, two brokers in two processes (${client} clients)`, async (t) => {
      const [{ broker: a }, { broker: b }] = await Promise.all([child(t, redis.url, client), child(t, redis.url, client)]);
      brokerContract(t, { a, b, subscribers: await numsub(t, redis) });
    });
  }

  t.test('a redis publisher and an ioredis subscriber (and back) share the channels', async (t) => {
    const [{ broker: a }, { broker: b }] = await Promise.all([child(t, redis.url, 'redis'), child(t, redis.url, 'ioredis')]);
    const atA = new Inbox();
    const atB = new Inbox();
    await Promise.all([a.subscribe('mixed', atA.listener), b.subscribe('mixed', atB.listener)]);
    await a.publish('mixed', Buffer.from([0, 255]));
    await b.publish('mixed', Buffer.from('from ioredis'));
    t.same(await atB.until(2), [Buffer.from([0, 255]), Buffer.from('from ioredis')], 'at the ioredis broker, in order');
    t.same(await atA.until(2), [Buffer.from([0, 255]), Buffer.from('from ioredis')], 'at the redis broker, in order');
  });

  t.test('the channel is prefix + topic, the message the bytes unchanged; the prefix is configurable', async (t) => {
    const publisher = createClient({ url: redis.url });
    const subscriber = publisher.duplicate();
    const spy = publisher.duplicate();
    for (const c of [publisher, subscriber, spy]) c.on('error', () => {});
    await Promise.all([publisher.connect(), subscriber.connect(), spy.connect()]);
    t.teardown(() => Promise.all([publisher.close(), subscriber.close(), spy.close()]));
    const seen = new Inbox();
    await spy.subscribe('app:news', seen.listener, true);
    const broker = new RedisBroker({ publisher, subscriber, prefix: 'app:' });
    t.equal(broker.channel('news'), 'app:news');
    t.equal(new RedisBroker({ publisher, subscriber }).channel('news'), 'rfcws:news', 'default prefix rfcws:');
    await broker.publish('news', Buffer.from([0, 1, 255]));
    t.same(await seen.until(1), [Buffer.from([0, 1, 255])], 'a plain Redis subscriber sees the bytes on app:news');
    await broker.close();
  });

  t.test('clients that are neither redis nor ioredis are refused with a clear message', async (t) => {
    t.throws(() => new RedisBroker({ publisher: {} as never, subscriber: {} as never }), { code: 'ERR_WS_INVALID_ARGUMENT', message: /not a Redis client/ });
    const half = { publish: async () => 0 };
    t.throws(() => new RedisBroker({ publisher: half as never, subscriber: half as never }), { message: /neither a `redis` v4\+ client/ });
  });

  t.test('an ioredis publisher that would queue or resend a failed publish is refused, saying what to set', async (t) => {
    const base = { lazyConnect: true };
    const subscriber = new Redis(redis.url, base);
    const message = /an ioredis publisher must be created with \{ enableOfflineQueue: false, autoResendUnfulfilledCommands: false \}/;
    for (const options of [{}, { enableOfflineQueue: false }, { autoResendUnfulfilledCommands: false }]) {
      const publisher = new Redis(redis.url, { ...base, ...options });
      t.throws(() => new RedisBroker({ publisher, subscriber }), { code: 'ERR_WS_INVALID_ARGUMENT', message }, JSON.stringify(options));
    }
    const publisher = new Redis(redis.url, { ...base, enableOfflineQueue: false, autoResendUnfulfilledCommands: false });
    t.equal(new RedisBroker({ publisher, subscriber }).channel('t'), 'rfcws:t', 'both off: accepted; the subscriber keeps its defaults');
  });

  for (const client of CLIENTS) t.test(`Redis restarts (${client} clients): publishes meanwhile are rejected, subscriptions come back, nothing crashes`, async (t) => {
    const [{ broker: a }, { broker: b }] = await Promise.all([child(t, redis.url, client), child(t, redis.url, client)]);
    const atB = new Inbox();
    await b.subscribe('outage', atB.listener);
    await a.publish('outage', Buffer.from('before'));
    t.same((await atB.until(1)).map(String), ['before']);

    await redis.stop();
    const during = 10;
    const codes: string[] = [];
    for (let i = 0; i < during; i++) {
      await a.publish('outage', Buffer.from(`during ${i}`)).then(
        () => codes.push('published'),
        (err: RemoteError) => codes.push(err.code),
      );
    }
    t.equal(codes.filter((c) => c.startsWith('ERR_WS_BROKER_')).length, during, `all ${during} publishes during the outage were rejected: ${codes.join(' ')}`);

    await redis.start();
    // Both clients reconnect on their own schedule: publish probes until one reaches b.
    let probes = 0;
    while (atB.got.length < 2 && probes < 300) {
      await a.publish('outage', Buffer.from(`probe ${probes++}`)).catch(() => {});
      if (atB.got.length < 2) await sleep(100);
    }
    const got = atB.got.map(String);
    t.match(got[1], /^probe \d+$/, `b's subscription came back (after ${probes} probes)`);
    t.notOk(got.some((m) => m.startsWith('during')), 'nothing rejected was delivered later');
    const ping = (await b.call('ping')) as { drops: number };
    t.ok(ping.drops > 0, `the clients saw the outage (${ping.drops} lost connections)`);
    t.ok(((await a.call('ping')) as { pid: number }).pid > 0, 'both processes are alive');
  });

  // Redis stops answering with a PUBLISH on the wire, the broker reports it as timed out, then
  // Redis dies and comes back: the client must not send that PUBLISH again (ioredis would, with
  // its default autoResendUnfulfilledCommands).
  for (const client of CLIENTS) t.test(`a publish in flight when Redis dies (${client} clients): reported as timed out, never delivered later`, async (t) => {
    const [{ broker: a }, { broker: b }] = await Promise.all([child(t, redis.url, client), child(t, redis.url, client)]);
    const atB = new Inbox();
    await b.subscribe('in-flight', atB.listener);
    await a.publish('in-flight', Buffer.from('before'));
    t.same((await atB.until(1)).map(String), ['before']);

    redis.freeze();
    const code = await a.publish('in-flight', Buffer.from('in flight')).then(() => 'published', (err: RemoteError) => err.code);
    t.equal(code, 'ERR_WS_BROKER_TIMEOUT', 'no reply from a frozen Redis: reported as timed out');
    await redis.crash();
    await redis.start();
    // A resent PUBLISH goes out the moment the publisher is ready again, before any probe can
    // (b may not be subscribed yet): Redis's own count of PUBLISHes since it started shows it.
    let probes = 0;
    let published = 0;
    while (atB.got.length < 2 && probes < 300) {
      await a.publish('in-flight', Buffer.from(`probe ${probes++}`)).then(() => published++, () => {});
      if (atB.got.length < 2) await sleep(100);
    }
    const got = atB.got.map(String);
    t.match(got[1], /^probe \d+$/, `b's subscription came back (after ${probes} probes), and the first message it got was a probe`);
    t.notOk(got.includes('in flight'), 'the publish reported as failed did not reach b');
    t.equal(await publishCalls(redis), published, `Redis ran exactly the ${published} PUBLISHes reported as published: the failed one was not sent again`);
  });
});
