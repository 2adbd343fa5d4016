// Servers in a node:cluster (this test is the primary, with the relay; two workers run
// fixtures/server-peer.js with a ClusterBroker): a message published in one worker, by
// server.publish or ws.publish, reaches the subscribers of every worker exactly once
// (test/helpers/exactly-once.ts: markers, no sleeping).
import t from 'tap';
import cluster from 'node:cluster';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ClusterBroker } from '../../lib/pubsub/cluster-broker.js';
import { exchange, type Endpoint } from '../helpers/exactly-once.js';
import { peerClient, ServerPeer, type PeerClient } from './server-peers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/server-peer.js', import.meta.url));
const relay = ClusterBroker.relay(cluster);
t.teardown(() => relay.close());

cluster.setupPrimary({ exec: FIXTURE, args: ['cluster'] });
const workers = [cluster.fork(), cluster.fork()];
t.teardown(async () => {
  for (const w of workers) {
    if (w.process.exitCode !== null || w.process.signalCode !== null) continue;
    const exited = once(w, 'exit');
    w.process.kill('SIGKILL');
    await exited;
  }
});
const servers = new Map(await Promise.all(workers.map(async (w) => {
  const s = new ServerPeer(w);
  return [(await s.ready).label, s] as const;
})));
const { port } = await servers.get('worker 1')!.ready;

/** Clients on the shared port until `want` of each worker; connections the test did not need are closed. */
async function clients(t: { teardown(fn: () => unknown): void }, want: number): Promise<Map<string, PeerClient[]>> {
  const by = new Map<string, PeerClient[]>([['worker 1', []], ['worker 2', []]]);
  for (let i = 0; i < 20 && [...by.values()].some((l) => l.length < want); i++) {
    const c = await peerClient(t, port);
    const list = by.get(c.server)!;
    if (list.length < want) list.push(c);
    else c.ws.terminate();
  }
  return by;
}

t.test('server.publish in one worker reaches the subscribers of both workers exactly once', async (t) => {
  const by = await clients(t, 2);
  const [a, c] = by.get('worker 1')!;
  const [b, d] = by.get('worker 2')!;
  t.ok(a && b && c && d, 'two clients on each worker');
  for (const x of [a!, b!, c!, d!]) await x.sub('room');
  const serverOf = new Map<Endpoint, ServerPeer>([[a!, servers.get('worker 1')!], [b!, servers.get('worker 2')!]]);
  const r = await exchange(a!, b!, { tag: 'sp', send: (e, text) => void serverOf.get(e)!.publish('room', text), others: [c!] });
  t.same(r.a, r.expectedA, 'worker 1, first subscriber: each message once');
  t.same(r.others[0], r.expectedOthers, 'worker 1, second subscriber: each message once');
  t.same(r.b, r.expectedB, 'worker 2, first subscriber: each message once');
  // d is served like b (the same worker, the same deliveries in the same order): complete up to mark 3 too.
  await d!.until('sp a mark 3');
  const atD = d!.received.filter((l) => l.startsWith('sp '));
  t.same(atD.slice(0, atD.indexOf('sp a mark 3') + 1).sort(), r.expectedB, 'worker 2, second subscriber: each message once');
  for (const s of servers.values()) {
    const stats = (await s.call('stats')) as { publishFailed: number; malformed: number; own: number; received: number };
    t.equal(stats.publishFailed, 0);
    t.equal(stats.malformed, 0);
    t.ok(stats.own > 0 && stats.received > 0, 'its own messages came back and were dropped; the other\'s were delivered');
  }
});

t.test('ws.publish in one worker reaches every other subscriber, in both workers, exactly once (never the sender)', async (t) => {
  const by = await clients(t, 2);
  const [a, c] = by.get('worker 1')!;
  const [b] = by.get('worker 2')!;
  for (const x of [a!, b!, c!]) await x.sub('lobby');
  const r = await exchange(a!, b!, { tag: 'wp', send: (e, text) => e.send(`pub lobby ${text}`), senderGets: false, others: [c!] });
  t.same(r.a, r.expectedA, 'the publisher in worker 1 gets only the other worker\'s messages, once');
  t.same(r.b, r.expectedB, 'the publisher in worker 2 gets only the other worker\'s messages, once');
  t.same(r.others[0], r.expectedOthers, 'another subscriber in worker 1 gets both sides, once');
});
