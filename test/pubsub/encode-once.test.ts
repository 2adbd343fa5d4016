// Encode once: a published message is framed once and the very same Buffer objects are handed
// to every subscriber's transport (a recording wrapper around lib/transport/pipe.ts), and the
// bytes on the wire are the expected frame for every raw client.
import t from 'tap';
import { resolveDeflateOptions } from '../../lib/extensions/deflate-options.js';
import { ServerPubSub } from '../../lib/pubsub/pubsub.js';
import { endOfTick, noSignals, settle, subscriber, until } from './recording.js';
import { rawSubscriber, serverFrame, startServer } from './setup.js';

t.test('every subscriber\'s transport is handed the same Buffer objects, encoded once', async (t) => {
  const pubsub = new ServerPubSub({}, null, noSignals);
  const subs = Array.from({ length: 5 }, () => subscriber(pubsub));
  for (const s of subs) s.ws.subscribe('t');
  for (const [size, label] of [[16, 'coalesced'], [64 * 1024, 'header + payload']] as const) {
    for (const s of subs) s.transport.writes.length = 0;
    const payload = Buffer.alloc(size, 0x61);
    t.equal(pubsub.publish('t', payload), 5);
    await endOfTick();
    const first = subs[0]!.transport.writes;
    t.equal(first.length, 1, `${label}: one write per subscriber`);
    for (const s of subs) {
      t.equal(s.transport.writes.length, 1);
      t.equal(s.transport.writes[0], first[0], `${label}: the same chunk array`);
      s.transport.writes[0]!.forEach((c, i) => t.equal(c, first[0]![i], `${label}: chunk ${i} is the same Buffer object`));
    }
    t.same(Buffer.concat(first[0]!), serverFrame(0x82, payload), `${label}: the frame bytes`);
    if (size > 2048) t.equal(first[0]![1], payload, 'a large payload is referenced, not copied');
  }
  await settle();
  for (const s of subs) t.same(s.frames.map((f) => f.payload.length), [16, 64 * 1024]);
  for (const s of subs) s.ws.terminate();
  await settle();
  t.equal(pubsub.topics.count('t'), 0);
});

t.test('with deflate: no-context-takeover subscribers share one compressed frame per window size; the others get the uncompressed one', async (t) => {
  const pubsub = new ServerPubSub({}, resolveDeflateOptions({ threshold: 0 }), noSignals);
  const shared = [subscriber(pubsub, { noContextTakeover: true }), subscriber(pubsub, { noContextTakeover: true })];
  const small = [subscriber(pubsub, { noContextTakeover: true, windowBits: 10 }), subscriber(pubsub, { noContextTakeover: true, windowBits: 10 })];
  const takeover = subscriber(pubsub, { noContextTakeover: false });
  const plain = subscriber(pubsub);
  const all = [...shared, ...small, takeover, plain];
  for (const s of all) s.ws.subscribe('t');
  const text = 'compress me, compress me, compress me, compress me';
  t.equal(pubsub.publish('t', text), 6);
  await endOfTick();
  t.equal(takeover.transport.writes.length, 1, 'the uncompressed frame is written at once');
  t.equal(takeover.transport.writes[0], plain.transport.writes[0], 'the takeover subscriber and the one without deflate get the same frame');
  t.same(Buffer.concat(plain.transport.writes[0]!), serverFrame(0x81, text));
  await until(() => all.every((x) => x.frames.length >= 1));
  t.equal(pubsub.sharedCompressions, 2, 'two compressions: one per window size, whatever the number of subscribers');
  t.equal(shared[0]!.transport.writes[0], shared[1]!.transport.writes[0], '15-bit subscribers: the same compressed frame');
  t.equal(small[0]!.transport.writes[0], small[1]!.transport.writes[0], '10-bit subscribers: the same compressed frame');
  t.not(shared[0]!.transport.writes[0], small[0]!.transport.writes[0]);
  for (const s of [...shared, ...small]) {
    t.equal(s.frames[0]!.rsv, 4, 'RSV1: compressed');
    t.ok(s.frames[0]!.payload.length < Buffer.byteLength(text));
  }
  t.equal(takeover.frames[0]!.rsv, 0);
  for (const s of all) s.ws.terminate();
  await settle();
  pubsub.dispose();
});
