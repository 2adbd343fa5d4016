// ClusterBroker over real processes: this test is the cluster primary (running the relay), two
// cluster workers run fixtures/broker-peer.js, for both IPC serializations (JSON and 'advanced').
import t from 'tap';
import { fork, spawnSync } from 'node:child_process';
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ClusterBroker } from '../../lib/pubsub/cluster-broker.js';
import { TAG } from '../../lib/pubsub/cluster-ipc.js';
import { brokerContract, Inbox } from './contract.js';
import { RemoteBroker } from './remote-broker.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/broker-peer.js', import.meta.url));
const relay = ClusterBroker.relay(cluster);
t.teardown(() => relay.close());

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

async function workers(t: Test, serialization: 'json' | 'advanced'): Promise<{ a: RemoteBroker; b: RemoteBroker; wa: Worker; wb: Worker }> {
  cluster.setupPrimary({ exec: FIXTURE, args: ['cluster'], serialization, silent: false });
  const wa = cluster.fork();
  const wb = cluster.fork();
  t.teardown(async () => {
    for (const w of [wa, wb]) {
      if (w.process.exitCode !== null || w.process.signalCode !== null) continue;
      const exited = once(w, 'exit');
      w.process.kill('SIGKILL');
      await exited;
    }
  });
  const a = new RemoteBroker(wa);
  const b = new RemoteBroker(wb);
  await Promise.all([a.ready, b.ready]);
  return { a, b, wa, wb };
}

for (const serialization of ['json', 'advanced'] as const) {
  t.test(`the broker contract, primary + 2 workers, serialization ${serialization}`, async (t) => {
    const { a, b } = await workers(t, serialization);
    brokerContract(t, { a, b, subscribers: async (topic) => relay.subscribers(topic) });
  });
}

t.test('the broker contract with plain child_process.fork() children: relay() and add(child)', async (t) => {
  const children = [fork(FIXTURE, ['cluster']), fork(FIXTURE, ['cluster'])];
  const own = ClusterBroker.relay();
  for (const c of children) own.add(c);
  t.teardown(async () => {
    own.close();
    for (const c of children) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const exited = once(c, 'exit');
      c.kill('SIGKILL');
      await exited;
    }
  });
  const [a, b] = children.map((c) => new RemoteBroker(c)) as [RemoteBroker, RemoteBroker];
  await Promise.all([a.ready, b.ready]);
  brokerContract(t, { a, b, subscribers: async (topic) => own.subscribers(topic) });
});

t.test('a worker that exits leaves no subscription behind; the others carry on', async (t) => {
  const { a, b, wb } = await workers(t, 'json');
  const atA = new Inbox();
  await a.subscribe('exits', atA.listener);
  await b.subscribe('exits', () => {});
  t.equal(relay.subscribers('exits'), 2);
  const exited = once(wb, 'exit');
  wb.process.kill('SIGKILL');
  await exited;
  t.equal(relay.subscribers('exits'), 1);
  await a.publish('exits', Buffer.from('still here'));
  t.same((await atA.until(1)).map(String), ['still here']);
});

t.test('hostile: malformed IPC messages are ignored by the primary and by the workers', async (t) => {
  const { a, b, wb } = await workers(t, 'json');
  const atB = new Inbox();
  await b.subscribe('hostile', atB.listener);
  const garbage: unknown[] = [
    null, 42, 'text', [], { tag: TAG }, { tag: TAG, op: 'nope' },
    { tag: TAG, op: 'pub', topic: 7, data: 'AA==' }, { tag: TAG, op: 'pub', topic: 'hostile', data: { 0: 1 } },
    { tag: TAG, op: 'sub', b: 'x', topic: 'hostile', id: 1 }, { tag: TAG, op: 'sub', b: 0, topic: 'h'.repeat(70_000), id: 1 },
    { tag: TAG, op: 'close', b: 0 }, { tag: TAG, op: 'unsub', b: 0, topic: ['hostile'], id: 2 },
  ];
  for (const message of garbage) await a.call('raw', { message });
  // To the worker, as if from the primary: b's first broker is number 0 in its process.
  const toWorker: unknown[] = [
    null, { tag: TAG, op: 'msg', b: 0, topic: 5, data: 'AA==' }, { tag: TAG, op: 'msg', b: 0, topic: 'hostile', data: 12 },
    { tag: TAG, op: 'msg', b: 'zero', topic: 'hostile', data: 'AA==' }, { tag: TAG, op: 'ack', b: 0, id: 'x' }, { tag: TAG, op: 'ack', b: 0, id: 9999 },
    { tag: TAG, op: 'msg', b: 1, topic: 'hostile', data: 'AA==' },
  ];
  for (const m of toWorker) wb.send(m as object);
  t.equal(relay.subscribers('hostile'), 1, 'the relay still has exactly b on the topic');
  t.equal(relay.subscribers('h'.repeat(70_000)), 0, 'an over-long topic was not recorded');
  await a.publish('hostile', Buffer.from('after the garbage'));
  t.same((await atB.until(1)).map(String), ['after the garbage'], 'the worker ignored the garbage and still gets messages');
  t.ok(((await b.call('ping')) as { pid: number }).pid > 0, 'the worker is alive');
});

t.test('outside a cluster: a ClusterBroker without an IPC channel says what it needs', async (t) => {
  const url = new URL('../../lib/pubsub/cluster-broker.js', import.meta.url).href;
  const script = `import { ClusterBroker } from '${url}'; try { new ClusterBroker(); } catch (e) { console.log(e.code, e.message); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  t.match(r.stdout, /^ERR_WS_BROKER_UNAVAILABLE ClusterBroker needs an IPC channel: run it in a cluster worker or a child_process.fork\(\) child/);
});
