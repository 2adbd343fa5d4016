// Two servers in two processes (fixtures/server-peer.js), each with a RedisBroker on a real
// redis-server: each message reaches the subscribers of both exactly once; Redis restarting
// mid-test: every publish during the outage is reported (a 'brokerError' each, counted in
// brokerStats.publishFailed; the local subscribers still get it, the other server's never do),
// and once Redis is back the subscriptions are there again and messages flow exactly once.
import t from 'tap';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { exchange, type Endpoint } from '../helpers/exactly-once.js';
import { redisServer, REDIS_SKIP } from '../helpers/redis-server.js';
import { peerClient, ServerPeer } from './server-peers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/server-peer.js', import.meta.url));

t.test('two servers joined by RedisBroker on a real redis-server', { skip: REDIS_SKIP }, async (t) => {
  const redis = await redisServer(t);
  const spawnServer = async (): Promise<{ server: ServerPeer; port: number }> => {
    const c = fork(FIXTURE, ['redis', redis.url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    t.teardown(async () => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = once(c, 'exit');
      c.kill('SIGKILL');
      await exited;
    });
    const server = new ServerPeer(c);
    return { server, port: (await server.ready).port };
  };
  const [one, two] = await Promise.all([spawnServer(), spawnServer()]);
  const a = await peerClient(t, one.port);
  const b = await peerClient(t, two.port);
  await Promise.all([a.sub('room'), b.sub('room')]);
  const serverOf = new Map<Endpoint, ServerPeer>([[a, one.server], [b, two.server]]);
  const viaServer = { send: (e: Endpoint, text: string) => void serverOf.get(e)!.publish('room', text) };

  t.test('server.publish and ws.publish: each message exactly once on both servers', async (t) => {
    const r = await exchange(a, b, { tag: 'sp', ...viaServer });
    t.same(r.a, r.expectedA, 'server one\'s subscriber');
    t.same(r.b, r.expectedB, 'server two\'s subscriber');
    const w = await exchange(a, b, { tag: 'wp', send: (e, text) => e.send(`pub room ${text}`), senderGets: false });
    t.same(w.a, w.expectedA, 'ws.publish: server one\'s subscriber gets the other side\'s, once');
    t.same(w.b, w.expectedB, 'ws.publish: server two\'s subscriber gets the other side\'s, once');
  });

  t.test('Redis restarts: publishes meanwhile are reported, subscriptions come back, messages flow again', async (t) => {
    const before = (await one.server.call('stats')) as { published: number; publishFailed: number };
    const errorsBefore = one.server.brokerErrors.length;
    await redis.stop();
    const during = 10;
    const local: number[] = [];
    for (let i = 0; i < during; i++) local.push(await one.server.publish('room', `during ${i}`));
    t.same(local, Array(during).fill(1), 'server.publish still delivers locally (returns 1 each time)');
    await one.server.errors(errorsBefore + during);
    const reported = one.server.brokerErrors.slice(errorsBefore);
    t.same(reported.map((e) => `${e.operation} ${e.topic}`), Array(during).fill('publish room'), `one brokerError per publish during the outage`);
    t.ok(reported.every((e) => e.code.startsWith('ERR_WS_BROKER_')), `with a broker code: ${[...new Set(reported.map((e) => e.code))].join(', ')}`);
    const after = (await one.server.call('stats')) as { published: number; publishFailed: number };
    t.equal(after.published - before.published, during, 'brokerStats.published counted them');
    t.equal(after.publishFailed - before.publishFailed, during, 'brokerStats.publishFailed counted every one');
    await a.until(`during ${during - 1}`);
    t.same(a.received.filter((l) => l.startsWith('during ')), Array.from({ length: during }, (_, i) => `during ${i}`), 'the local subscriber got each once');

    await redis.start();
    // Waiting for a state, not for time: both servers' clients ready, both subscriptions back in Redis.
    const probe = createClient({ url: redis.url });
    probe.on('error', () => {});
    await probe.connect();
    t.teardown(() => probe.close());
    const numsub = async (): Promise<number> => Number(((await probe.sendCommand(['PUBSUB', 'NUMSUB', 'rfcws:room'])) as [string, number])[1]);
    let polls = 0;
    while (!((await one.server.call('redisReady')) && (await two.server.call('redisReady')) && (await numsub()) === 2)) {
      polls++;
      await sleep(50);
    }
    t.pass(`both servers reconnected and resubscribed (${polls} polls)`);
    const r = await exchange(a, b, { tag: 'back', ...viaServer });
    t.same(r.a, r.expectedA, 'after the outage, server one\'s subscriber: each message once');
    t.same(r.b, r.expectedB, 'after the outage, server two\'s subscriber: each message once');
    // Server one's publisher sends in order: a "during" message sent after the reconnect would be ahead of these.
    t.same(b.received.filter((l) => l.startsWith('during ')), [], 'nothing reported as failed reached the other server later');
    t.equal(two.server.brokerErrors.length, 0, 'server two had nothing to report');
  });
});
