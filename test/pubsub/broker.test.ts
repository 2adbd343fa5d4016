// Several servers joined by a broker (MemoryHub/MemoryBroker): every publish reaches every
// subscriber on every server exactly once; the broker topic is held while a local socket is
// subscribed; malformed broker messages are dropped and counted; broker failures are signalled
// ('brokerError', or one process warning), never thrown nor left as unhandled rejections.
import t from 'tap';
import { once } from 'node:events';
import { BrokerError } from '../../lib/pubsub/broker-error.js';
import type { Broker } from '../../lib/pubsub/broker.js';
import { encodeEnvelope, newOrigin } from '../../lib/pubsub/envelope.js';
import { MemoryBroker, MemoryHub } from '../../lib/pubsub/memory-broker.js';
import { rawSubscriber, serverFrame, startServer } from './setup.js';

const f = (s: string) => serverFrame(0x81, s);

async function twoServers(t: Tap) {
  const hub = new MemoryHub();
  const brokerA = hub.broker();
  const brokerB = hub.broker();
  const A = await startServer(t, { broker: brokerA });
  const B = await startServer(t, { broker: brokerB });
  return { hub, brokerA, brokerB, A, B };
}
type Tap = Parameters<typeof startServer>[0];

t.test('a publish on either server reaches every subscriber on both exactly once; ws.publish skips only the sender', async (t) => {
  const { A, B } = await twoServers(t);
  const a1 = await rawSubscriber(t, A.server, A.port, ['room']);
  const b1 = await rawSubscriber(t, B.server, B.port, ['room']);
  const b2 = await rawSubscriber(t, B.server, B.port, ['room']);
  t.equal(A.server.publish('room', 'from A'), 1, 'one local subscriber on A');
  t.equal(b1.ws.publish('room', 'from b1'), 1, 'one other local subscriber on B');
  t.equal(B.server.publish('room', 'from B'), 2);
  // Order holds per publishing server; messages from two servers may interleave either way.
  const want = {
    a1: ['from A', 'from b1', 'from B'],
    b1: ['from A', 'from B'],
    b2: ['from A', 'from b1', 'from B'],
  };
  const peers = [['a1', a1], ['b1', b1], ['b2', b2]] as const;
  for (const [name, p] of peers) await p.peer.waitFor(() => p.peer.frames.length >= want[name].length, 5000, name);
  // Anything delivered twice would arrive before this marker, published after it.
  A.server.publish('room', 'end');
  for (const [name, p] of peers) {
    await p.peer.waitFor(() => p.peer.frames.some((x) => x.payload.toString() === 'end'), 5000, `${name}: end`);
    const got = p.peer.frames.map((x) => x.payload.toString());
    t.same(got.slice(0, -1).sort(), want[name].sort(), `${name}: every message once, none of its own`);
    t.equal(got.at(-1), 'end');
    t.same(p.peer.received, Buffer.concat(got.map(f)), `${name}: the exact frames`);
  }
  t.same(A.server.brokerStats, { published: 2, publishFailed: 0, received: 2, own: 2, malformed: 0 }, 'A dropped its own two messages handed back');
  t.same(B.server.brokerStats, { published: 2, publishFailed: 0, received: 2, own: 2, malformed: 0 });
  t.equal(new MemoryBroker().topics.length, 0);
});

t.test('the broker topic is subscribed with the first local subscriber and unsubscribed with the last', async (t) => {
  const { brokerA, A } = await twoServers(t);
  t.same(brokerA.topics, []);
  const x = await rawSubscriber(t, A.server, A.port, ['t']);
  t.same(brokerA.topics, ['t']);
  const y = await rawSubscriber(t, A.server, A.port, ['t', 'u']);
  t.same(brokerA.topics.sort(), ['t', 'u']);
  x.ws.unsubscribe('t');
  t.same(brokerA.topics.sort(), ['t', 'u'], 'y still holds t');
  const closed = once(y.ws, 'close');
  y.peer.destroy();
  await closed;
  t.same(brokerA.topics, [], 'the last subscriber of both left by closing');
  t.equal(A.server.publish('t', 'nobody local'), 0, 'publishing needs no local subscriber');
  t.equal(A.server.brokerStats!.published, 1);
});

t.test('malformed broker messages are dropped and counted; the subscribers get nothing, the server goes on', async (t) => {
  const { hub, A } = await twoServers(t);
  const a = await rawSubscriber(t, A.server, A.port, ['t']);
  const other = hub.broker();
  const origin = newOrigin();
  const bad = [
    Buffer.alloc(0),
    Buffer.from([1, 0]), // shorter than the header
    Buffer.concat([Buffer.from([2, 0]), origin, Buffer.from('v2')]), // unknown version
    Buffer.concat([Buffer.from([1, 0x80]), origin, Buffer.from('flags')]), // unknown flag
    encodeEnvelope(origin, false, false, Buffer.from([0xc3, 0x28])), // text that is not UTF-8
    'not a buffer' as unknown as Buffer,
  ];
  for (const bytes of bad) await other.publish('t', bytes);
  // A string cannot go through Buffer.from-copying brokers unchanged; hand it to A's listener directly.
  A.server.pubsubState.brokerLink!.receive('t', 'not a buffer' as unknown as Buffer);
  await other.publish('t', encodeEnvelope(origin, true, false, Buffer.from([0xc3, 0x28])));
  const good = serverFrame(0x82, Buffer.from([0xc3, 0x28]));
  await a.peer.until((r) => r.length >= good.length);
  await new Promise((r) => setTimeout(r, 20));
  t.same(a.peer.received, good, 'only the valid (binary) envelope was delivered');
  t.equal(A.server.brokerStats!.malformed, bad.length + 1, 'every malformed message counted (the direct one too)');
  t.equal(A.server.brokerStats!.received, 1);
});

t.test('broker failures are signalled: brokerError with the operation and topic; local delivery is unaffected', async (t) => {
  const { brokerA, A } = await twoServers(t);
  const a = await rawSubscriber(t, A.server, A.port, ['t']);
  await brokerA.close();
  const errors: BrokerError[] = [];
  A.server.on('brokerError', (err) => errors.push(err));
  t.equal(A.server.publish('t', 'still local'), 1);
  await a.peer.until((r) => r.length >= f('still local').length);
  await new Promise((r) => setImmediate(r));
  t.equal(errors.length, 1);
  t.type(errors[0], BrokerError);
  t.equal(errors[0]!.code, 'ERR_WS_BROKER');
  t.equal(errors[0]!.operation, 'publish');
  t.equal(errors[0]!.topic, 't');
  t.match(errors[0]!.message, /publish on topic "t" failed: MemoryBroker: publish\(\) after close\(\)/);
  t.equal(A.server.brokerStats!.publishFailed, 1);
  // A second subscriber on a new topic: the broker's subscribe rejects too.
  a.ws.subscribe('u');
  await new Promise((r) => setImmediate(r));
  t.same(errors.map((e) => e.operation), ['publish', 'subscribe']);
});

t.test('a broker that throws instead of rejecting, and no brokerError listener: one process warning, no crash', async (t) => {
  const throwing: Broker = {
    publish() { throw new Error('boom'); },
    async subscribe() {},
    async unsubscribe() {},
    async close() {},
  };
  const { server, port } = await startServer(t, { broker: throwing });
  const a = await rawSubscriber(t, server, port, ['t']);
  const warning = once(process, 'warning');
  t.equal(server.publish('t', 'one'), 1);
  t.equal(server.publish('t', 'two'), 1);
  const [w] = (await warning) as [Error & { code?: string }];
  t.match(w.message, /broker publish on topic "t" failed: boom/);
  t.equal(w.code, 'ERR_WS_BROKER');
  t.equal(server.brokerStats!.publishFailed, 2, 'both failures counted, one warning');
  await a.peer.until((r) => r.length >= f('one').length + f('two').length);
  t.same(a.peer.received, Buffer.concat([f('one'), f('two')]));
});
