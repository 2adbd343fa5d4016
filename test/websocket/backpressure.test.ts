// Issue 2, send backpressure: "send reports when the queue is above a high-water
// mark and drain fires when it empties (like stream.write)" — for every mark,
// including marks below the socket's own 16 KiB buffer mark.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from '../../lib/websocket.js';
import { socketPair, wsOver } from '../helpers/pair.js';

for (const role of ['server', 'client'] as const) {
  for (const mark of [100, 4096, 64 * 1024]) {
    t.test(`${role}: send() returns false at sendHighWaterMark=${mark}, and 'drain' fires once the queue empties`, async (t) => {
      const { accepted, dialed, close } = await socketPair();
      t.teardown(close);
      const ours = role === 'server' ? accepted : dialed;
      const peer = role === 'server' ? dialed : accepted;
      peer.on('data', () => {});
      const ws = wsOver(role, ours, { sendHighWaterMark: mark });
      await new Promise((r) => setImmediate(r));
      let drains = 0;
      ws.on('drain', () => drains++);
      t.equal(ws.send(Buffer.alloc(mark * 2)), false, 'false: the queue is above the mark');
      // The peer reads everything: the queue empties, so 'drain' must have fired by then.
      while (ws.bufferedAmount > 0) await sleep(5);
      await sleep(50);
      t.equal(ws.bufferedAmount, 0);
      t.equal(drains, 1, "'drain' fired once after the queue emptied");
      ws.terminate();
    });
  }
}
