// RedisBroker against a real redis-server: two RedisBrokers in two child processes (each with
// its own `redis` clients) pass the broker contract; Redis restarting mid-test makes publishes
// fail (every one of them, counted) and the subscriptions come back once it returns.
import t from 'tap';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { RedisBroker } from '../../lib/pubsub/redis-broker.js';
import { redisServer, REDIS_SKIP, type RedisServer } from '../helpers/redis-server.js';
import { brokerContract, Inbox } from './contract.js';
import { RemoteBroker, RemoteError } from './remote-broker.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

const FIXTURE = fileURLToPath(new URL('./fixtures/broker-peer.js', import.meta.url));

async function child(t: Test, url: string): Promise<{ broker: RemoteBroker; process: ChildProcess }> {
  const c = fork(FIXTURE, ['redis', url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

t.test('RedisBroker with a real redis-server', { skip: REDIS_SKIP }, async (t) => {
  const redis = await redisServer(t);

  t.test('the broker contract, two brokers in two processes', async (t) => {
    const [{ broker: a }, { broker: b }] = await Promise.all([child(t, redis.url), child(t, redis.url)]);
    brokerContract(t, { a, b, subscribers: await numsub(t, redis) });
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

  t.test('Redis restarts: publishes meanwhile are rejected, subscriptions come back, nothing crashes', async (t) => {
    const [{ broker: a }, { broker: b }] = await Promise.all([child(t, redis.url), child(t, redis.url)]);
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
    const ping = (await b.call('ping')) as { errors: number };
    t.ok(ping.errors > 0, 'the clients saw the outage (error events)');
    t.ok(((await a.call('ping')) as { pid: number }).pid > 0, 'both processes are alive');
  });
});
