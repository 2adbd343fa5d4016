// The publishes of one tick are written together at the end of the tick: one write per
// subscriber, of one Buffer shared by all of them; the publisher gets the others' messages only;
// anything that must see them as written (own sends, bufferedAmount, droppedMessages, subscribe,
// unsubscribe, a publish to another topic, a batch past 64 KiB) writes them first.
import t from 'tap';
import { constants, inflateRawSync } from 'node:zlib';
import { resolveDeflateOptions } from '../../lib/extensions/deflate-options.js';
import { ServerPubSub } from '../../lib/pubsub/pubsub.js';
import { endOfTick, noSignals, settle, subscriber, until } from './recording.js';
import { connect } from '../../lib/client/client.js';
import { nextConnection, rawSubscriber, serverFrame, startServer } from './setup.js';

t.test('several publishes in one tick: one write per subscriber, the same Buffer for all, frames in publish order', async (t) => {
  const pubsub = new ServerPubSub({}, null, noSignals);
  const subs = Array.from({ length: 4 }, () => subscriber(pubsub));
  for (const s of subs) s.ws.subscribe('t');
  const texts = ['one', 'two', 'three'];
  for (const text of texts) t.equal(pubsub.publish('t', text), 4);
  t.same(subs.map((s) => s.transport.writes.length), [0, 0, 0, 0], 'nothing written before the end of the tick');
  await endOfTick();
  const want = Buffer.concat(texts.map((x) => serverFrame(0x81, x)));
  for (const s of subs) {
    t.equal(s.transport.writes.length, 1, 'one write');
    t.equal(s.transport.writes[0]!.length, 1, 'of one chunk');
    t.equal(s.transport.writes[0]![0], subs[0]!.transport.writes[0]![0], 'the same Buffer object as every other subscriber');
  }
  t.same(subs[0]!.transport.writes[0]![0], want);
  await settle();
  for (const s of subs) t.same(s.frames.map((f) => f.payload.toString()), texts);
  for (const s of subs) s.ws.terminate();
});

t.test('a publisher in the batch gets the other messages of the tick, not its own', async (t) => {
  const pubsub = new ServerPubSub({}, null, noSignals);
  const [a, b, c] = [subscriber(pubsub), subscriber(pubsub), subscriber(pubsub)];
  for (const s of [a, b, c]) s.ws.subscribe('room');
  t.equal(a.ws.publish('room', 'from a'), 2);
  t.equal(b.ws.publish('room', 'from b'), 2);
  t.equal(pubsub.publish('room', 'from the server'), 3);
  await settle();
  t.same(a.frames.map((f) => f.payload.toString()), ['from b', 'from the server']);
  t.same(b.frames.map((f) => f.payload.toString()), ['from a', 'from the server']);
  t.same(c.frames.map((f) => f.payload.toString()), ['from a', 'from b', 'from the server']);
  t.equal(c.transport.writes.length, 1, 'the others take the batch in one write');
  for (const s of [a, b, c]) s.ws.terminate();
});

t.test('subscribe sees the publishes before it as written: they are not for the new subscriber', async (t) => {
  const pubsub = new ServerPubSub({}, null, noSignals);
  const [stays, joins] = [subscriber(pubsub), subscriber(pubsub)];
  stays.ws.subscribe('t');
  pubsub.publish('t', 'before');
  joins.ws.subscribe('t');
  pubsub.publish('t', 'after');
  await settle();
  t.same(stays.frames.map((f) => f.payload.toString()), ['before', 'after']);
  t.same(joins.frames.map((f) => f.payload.toString()), ['after'], 'it was not subscribed when "before" was published');
  for (const s of [stays, joins]) s.ws.terminate();
});

t.test('unsubscribe sees the publishes before it as written: they still reach the leaving subscriber', async (t) => {
  const pubsub = new ServerPubSub({}, null, noSignals);
  const [stays, leaves] = [subscriber(pubsub), subscriber(pubsub)];
  stays.ws.subscribe('t');
  leaves.ws.subscribe('t');
  pubsub.publish('t', 'before');
  leaves.ws.unsubscribe('t');
  pubsub.publish('t', 'after');
  await settle();
  t.same(stays.frames.map((f) => f.payload.toString()), ['before', 'after']);
  t.same(leaves.frames.map((f) => f.payload.toString()), ['before'], 'it was subscribed when "before" was published');
  for (const s of [stays, leaves]) s.ws.terminate();
});

t.test('a loop of publishes that never yields writes every 64 KiB: the batch holds no more', async (t) => {
  const pubsub = new ServerPubSub({}, null, noSignals);
  const s = subscriber(pubsub);
  s.ws.subscribe('t');
  const payload = Buffer.alloc(1024, 0x61);
  for (let i = 0; i < 200; i++) pubsub.publish('t', payload);
  const written = s.transport.writes.flat().reduce((n, c) => n + c.length, 0);
  const frame = serverFrame(0x82, payload).length;
  t.ok(written >= 200 * frame - 64 * 1024, `written before the tick ends: ${written} of ${200 * frame} bytes`);
  await settle();
  t.equal(s.frames.length, 200);
  s.ws.terminate();
});

t.test('over sockets: publishes to two topics keep their order for a subscriber of both; own sends keep their place', async (t) => {
  const { server, port } = await startServer(t);
  const both = await rawSubscriber(t, server, port, ['a', 'b']);
  const onlyA = await rawSubscriber(t, server, port, ['a']);
  server.publish('a', 'a1');
  server.publish('b', 'b1');
  server.publish('a', 'a2');
  both.ws.ping('p');
  server.publish('a', 'a3');
  both.ws.close(1000, 'bye');
  server.publish('a', 'a4');
  const f = (s: string) => serverFrame(0x81, s);
  const want = Buffer.concat([f('a1'), f('b1'), f('a2'), serverFrame(0x89, 'p'), f('a3'), serverFrame(0x88, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye')]))]);
  await both.peer.until((r) => r.length >= want.length);
  t.same(both.peer.received, want, 'publish order across topics; the ping and the close frame in their place; nothing after the close');
  const wantA = Buffer.concat(['a1', 'a2', 'a3', 'a4'].map(f));
  await onlyA.peer.until((r) => r.length >= wantA.length);
  t.same(onlyA.peer.received, wantA);
});

t.test("bufferedAmount and droppedMessages right after a publish count it, as if it were written", async (t) => {
  const { server, port } = await startServer(t, { maxBackpressure: 0 });
  const { ws } = await rawSubscriber(t, server, port, ['t']);
  const drops: unknown[] = [];
  server.on('drop', (w) => drops.push(w));
  server.publish('t', 'x'.repeat(100));
  t.ok(ws.bufferedAmount >= 102, `the frame is in bufferedAmount (${ws.bufferedAmount})`);
  server.publish('t', 'over the limit');
  t.equal(ws.droppedMessages, 1, 'the second one was over maxBackpressure 0');
  t.equal(drops.length, 1, "and its 'drop' event came before the read returned");
});

t.test('with permessage-deflate: a compressed send after a publish comes after it, several publishes of a tick to compressing subscribers arrive in order', async (t) => {
  const { server, port } = await startServer(t, { perMessageDeflate: { threshold: 0 } });
  const conn = nextConnection(server);
  const client = await connect(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true, keepAliveInterval: 0 });
  t.teardown(() => client.terminate());
  const ws = await conn;
  t.match(ws.extensions, /permessage-deflate/);
  ws.subscribe('t');
  const got: string[] = [];
  const all = new Promise<void>((resolve) => client.on('message', (d) => { got.push(d.toString()); if (got.length === 5) resolve(); }));
  server.publish('t', 'pub 1');
  ws.send('own 1');
  server.publish('t', 'pub 2');
  server.publish('t', 'pub 3');
  ws.send('own 2');
  await all;
  t.same(got, ['pub 1', 'own 1', 'pub 2', 'pub 3', 'own 2']);
});

t.test('with deflate: subscribers sharing a compressed copy take a batch of several publishes in one write too, the same Buffer for all', async (t) => {
  const pubsub = new ServerPubSub({}, resolveDeflateOptions({ threshold: 0 }), noSignals);
  const shared = [subscriber(pubsub, { noContextTakeover: true }), subscriber(pubsub, { noContextTakeover: true })];
  for (const s of shared) s.ws.subscribe('t');
  const texts = ['compress me once', 'compress me twice', 'and a third time, compress me'];
  for (const text of texts) pubsub.publish('t', text);
  await until(() => shared.every((s) => s.frames.length >= texts.length));
  t.equal(pubsub.sharedCompressions, 3, 'one compression per message');
  for (const s of shared) {
    t.equal(s.transport.writes.length, 1, 'one write');
    t.equal(s.transport.writes[0]!.length, 1, 'of one chunk');
    t.equal(s.transport.writes[0]![0], shared[0]!.transport.writes[0]![0], 'the same Buffer object for both');
    t.same(s.frames.map((f) => f.rsv), [4, 4, 4], 'RSV1 on each: compressed');
    // No context takeover: each message inflates on its own.
    t.same(s.frames.map((f) => inflateRawSync(Buffer.concat([f.payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH }).toString()), texts);
  }
  for (const s of shared) s.ws.terminate();
  await settle();
  pubsub.dispose();
});
