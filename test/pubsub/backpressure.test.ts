// A subscriber that stops reading, under a publish flood: with 'drop' it misses messages (counted
// exactly, in ws.droppedMessages and the server's 'drop' events) while the others get every one;
// with 'close' it is closed with 1008. Either way its bufferedAmount never passes the limit by
// more than one frame, so memory stays bounded whatever the flood.
import t, { type Test } from 'tap';
import { OP } from '../helpers/frames.js';
import { rawSubscriber, serverFrame, startServer } from './setup.js';
import type { BackpressurePolicy } from '../../lib/pubsub/options.js';

const LIMIT = 256 * 1024;
const SIZE = 8 * 1024;
const FRAME = 4 + SIZE;
const PER_BATCH = 16; // 128 KiB per batch: under the limit, so a reading subscriber never reaches it
const BATCHES = 128; // 16 MiB in all: more than the kernel buffers of a loopback connection

async function flood(t: Test, policy: BackpressurePolicy) {
  const { server, port } = await startServer(t, { maxBackpressure: LIMIT, backpressurePolicy: policy, closeTimeout: 300 });
  const healthy = await rawSubscriber(t, server, port, ['flood']);
  const stalled = await rawSubscriber(t, server, port, ['flood'], { read: false });
  const drops: unknown[] = [];
  server.on('drop', (ws) => drops.push(ws));
  const closed = new Promise<[number, string]>((resolve) => stalled.ws.once('close', (code, reason) => resolve([code, reason])));
  const payload = Buffer.alloc(SIZE, 0x42);
  let sent = 0;
  let maxBuffered = 0;
  for (let b = 0; b < BATCHES; b++) {
    for (let i = 0; i < PER_BATCH; i++) {
      server.publish('flood', payload);
      sent++;
      maxBuffered = Math.max(maxBuffered, stalled.ws.bufferedAmount);
    }
    // The reading subscriber has caught up before the next batch: it is never over the limit.
    await healthy.peer.waitFor(() => healthy.peer.frames.length >= sent, 10_000, `${sent} messages`);
  }
  t.equal(healthy.peer.frames.length, sent, 'the reading subscriber got every message');
  t.equal(healthy.ws.droppedMessages, 0);
  t.ok(maxBuffered <= LIMIT + FRAME, `the stalled subscriber's bufferedAmount stayed within the limit + one frame (max ${maxBuffered})`);
  return { server, healthy, stalled, drops, closed, sent };
}

t.test("'drop': the stalled subscriber misses messages, counted exactly; the others get all", async (t) => {
  const { server, healthy, stalled, drops, sent } = await flood(t, 'drop');
  const dropped = stalled.ws.droppedMessages;
  t.ok(dropped > 0, `messages were dropped (${dropped} of ${sent})`);
  t.equal(drops.length, dropped, "one 'drop' event per missed message");
  t.ok(drops.every((ws) => ws === stalled.ws));
  t.equal(stalled.ws.readyState, stalled.ws.OPEN, 'still open');
  // It reads again: what was written arrives, then the next publish.
  stalled.peer.startReading();
  await stalled.peer.waitFor(() => stalled.peer.frames.length >= sent - dropped, 10_000, 'what was written');
  server.publish('flood', 'end');
  const end = serverFrame(0x81, 'end');
  await stalled.peer.waitFor(() => stalled.peer.frames.length >= sent - dropped + 1, 10_000, 'the end marker');
  t.equal(stalled.peer.frames.length, sent - dropped + 1, 'exactly the messages not counted as dropped, then the next one');
  t.same(stalled.peer.received.subarray(-end.length), end);
  t.ok(stalled.peer.frames.slice(0, -1).every((f) => f.opcode === OP.BINARY && f.payload.length === SIZE));
  t.equal(stalled.ws.droppedMessages, dropped, 'nothing more dropped once it reads');
  await healthy.peer.waitFor(() => healthy.peer.frames.length === sent + 1, 10_000, 'the end marker');
});

t.test("'close': the stalled subscriber is closed with 1008; the others get all", async (t) => {
  const { server, stalled, closed, healthy, sent } = await flood(t, 'close');
  const [code, reason] = await closed;
  t.equal(code, 1008);
  t.equal(reason, 'publish backpressure limit exceeded');
  t.equal(stalled.ws.droppedMessages, 0, "'close' does not count drops");
  stalled.peer.startReading();
  await stalled.peer.waitRemoteClosed();
  t.equal(server.subscribers('flood'), 1, 'it left the topic');
  t.equal(server.publish('flood', 'after'), 1);
  await healthy.peer.waitFor(() => healthy.peer.frames.length === sent + 1, 10_000, 'the last message');
});

t.test('maxBackpressure and backpressurePolicy are validated', async (t) => {
  const { WebSocketServer } = await import('../../lib/server/server.js');
  t.throws(() => new WebSocketServer({ maxBackpressure: -1 }), { code: 'ERR_WS_INVALID_ARGUMENT' });
  t.throws(() => new WebSocketServer({ backpressurePolicy: 'wait' as BackpressurePolicy }), { code: 'ERR_WS_INVALID_ARGUMENT' });
  t.throws(() => new WebSocketServer({ broker: {} as never }), { code: 'ERR_WS_INVALID_ARGUMENT' });
});
