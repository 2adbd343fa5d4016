// Regression: a ping flood while the send path is stalled behind compression (the
// process-wide zlib limiter busy) must leave at most one pong owed, and queued control
// frames count toward bufferedAmount (they used to pile up uncounted: 200,001 frames).
import t from 'tap';
import { once } from 'node:events';
import { WebSocketServer, type WebSocket } from '../../lib/index.js';
import { zlibLimiter } from '../../lib/extensions/zlib-limiter.js';
import { OP, cframe } from '../helpers/frames.js';
import { RawPeer } from '../helpers/raw-peer.js';

const PINGS = 200_000;

t.test('200,000 pings behind a stalled compression: one pong owed, bounded buffers', async (t) => {
  const server = new WebSocketServer({ host: '127.0.0.1', perMessageDeflate: true, keepAliveInterval: 0 });
  const accepted = once(server, 'connection') as Promise<[WebSocket]>;
  const { port } = await server.listen();
  t.teardown(() => server.close(100));
  const peer = await RawPeer.upgrade(port, { deflate: true });
  const [ws] = await accepted;
  const frames = peer.frames;

  // Occupy every zlib slot of the process: our compression waits in the limiter's queue.
  const saved = zlibLimiter.concurrency;
  zlibLimiter.concurrency = 1;
  let release: () => void = () => undefined;
  zlibLimiter.run((r) => { release = r; });
  t.teardown(() => { release(); zlibLimiter.concurrency = saved; });

  const message = Buffer.alloc(4096, 'x');
  let sent = false;
  ws.send(message, { binary: false }, () => { sent = true; });
  let pings = 0;
  ws.on('ping', () => { pings++; });
  const flood: Buffer[] = [];
  for (let i = 0; i < PINGS; i++) {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(i);
    flood.push(cframe({ opcode: OP.PING, payload }));
  }
  void peer.write(Buffer.concat(flood));
  while (pings < PINGS) await new Promise((r) => setTimeout(r, 20));
  t.equal(sent, false, 'the compressed message is still waiting for zlib');
  t.ok(ws.bufferedAmount <= message.length + 125, `bufferedAmount ${ws.bufferedAmount} stays at the message plus one pong`);
  t.ok(ws.bufferedAmount > message.length, 'the owed pong is counted in bufferedAmount');
  t.equal(frames.length, 0, 'nothing was written past the stalled message');

  release();
  while (frames.length < 2) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 50));
  t.equal(frames.length, 2, 'exactly two frames: the message and one pong');
  t.equal(frames[0]!.opcode, OP.TEXT);
  t.equal(frames[0]!.rsv, 4, 'compressed');
  t.equal(frames[1]!.opcode, OP.PONG);
  t.equal(frames[1]!.payload.readUInt32BE(0), PINGS - 1, 'the pong answers the latest ping');
  t.ok(process.memoryUsage().heapUsed < 512 * 1024 * 1024, 'heap bounded');
  peer.destroy();
});
