// Issue 2, frame writer over a real socket: client frames are masked with a fresh
// key per frame, and a large server payload reaches the socket as its own chunk
// (no concatenation copy) in one gather write.
import t from 'tap';
import type * as net from 'node:net';
import { WebSocket } from '../../lib/websocket.js';
import type { Frame } from '../helpers/frames.js';
import { socketPair, wsOver } from '../helpers/pair.js';
import { readFrames } from '../helpers/raw-peer.js';

/** The first header byte of a decoded frame (FIN, RSV, opcode), as the assertions below spell frames. */
const b0 = (f: Frame): number => (f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode;

/** Collects frames from a raw socket until one with `opcode` arrives (or the socket closes). */
const collectUntilOpcode = (socket: net.Socket, opcode: number): Promise<Frame[]> => readFrames(socket, (f) => f.opcode === opcode);

t.test('client role over TCP: every frame masked, a fresh key each time, payloads intact, caller buffers untouched', async (t) => {
  const { accepted, dialed, close } = await socketPair();
  t.teardown(close);
  const client = wsOver('client', dialed);
  const wire = collectUntilOpcode(accepted, 0x8);
  const sizes = [0, 1, 125, 126, 65535, 65536, 200_000];
  for (let i = 0; i < 40; i++) sizes.push(i);
  const sent: Buffer[] = sizes.map((n, i) => Buffer.alloc(n, (i * 37 + 11) & 0xff));
  const copies = sent.map((b) => Buffer.from(b));
  await new Promise((r) => setImmediate(r));
  for (const b of sent) client.send(b);
  client.send('text message');
  client.send('stream-', { fin: false });
  client.send('ed', { fin: true });
  client.ping('p');
  client.pong('q');
  client.close(1000, 'bye');
  const frames = await wire;
  t.equal(frames.length, sent.length + 6, 'every frame reached the peer');
  t.ok(frames.every((f) => f.masked), 'every client frame has MASK set');
  const keys = new Set(frames.map((f) => f.key!.toString('hex')));
  t.equal(keys.size, frames.length, `${frames.length} frames, ${keys.size} distinct mask keys`);
  for (let i = 0; i < sent.length; i++) {
    if (!frames[i]!.payload.equals(copies[i]!)) t.fail(`payload ${i} (${sizes[i]} B) differs after unmasking`);
  }
  t.ok(sent.every((b, i) => b.equals(copies[i]!)), 'the caller buffers were not masked in place');
  const tail = frames.slice(sent.length).map((f) => [b0(f), f.payload.toString('latin1')]);
  t.same(tail, [
    [0x81, 'text message'],
    [0x01, 'stream-'],
    [0x80, 'ed'],
    [0x89, 'p'],
    [0x8a, 'q'],
    [0x88, '\x03\xe8bye'],
  ]);
});

t.test('server role over TCP: frames are not masked', async (t) => {
  const { accepted, dialed, close } = await socketPair();
  t.teardown(close);
  const server = wsOver('server', accepted);
  const wire = collectUntilOpcode(dialed, 0x8);
  server.send(Buffer.alloc(70_000, 5));
  server.send('x');
  server.close(1000);
  const frames = await wire;
  t.same(frames.map((f) => [b0(f), f.masked, f.payload.length]), [[0x82, false, 70_000], [0x81, false, 1], [0x88, false, 2]]);
});

t.test('a large server payload goes to the socket uncopied, header and payload in one gather write', async (t) => {
  const { accepted, dialed, close } = await socketPair();
  t.teardown(close);
  const writes: Array<{ chunk: unknown; corked: number }> = [];
  const writevs: unknown[][] = [];
  const sock = accepted as net.Socket & { _writev?: (chunks: Array<{ chunk: unknown }>, cb: (err?: Error | null) => void) => void };
  const origWrite = sock.write;
  sock.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    writes.push({ chunk, corked: this.writableCorked });
    return (origWrite as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof sock.write;
  const origWritev = sock._writev;
  t.ok(typeof origWritev === 'function', 'net.Socket implements _writev');
  sock._writev = function (this: net.Socket, chunks, cb) {
    writevs.push(chunks.map((c) => c.chunk));
    return origWritev!.call(this, chunks, cb);
  };
  const server = wsOver('server', accepted);
  await new Promise((r) => setImmediate(r));
  const payload = Buffer.alloc(256 * 1024, 0xab);
  writes.length = 0;
  const received = collectUntilOpcode(dialed, 0x2);
  server.send(payload);
  t.equal(writes.length, 2, 'two socket.write calls: header, payload');
  t.equal(writes[1]!.chunk, payload, 'the payload chunk is the caller buffer itself (no copy)');
  t.same([...(writes[0]!.chunk as Buffer)], [0x82, 127, 0, 0, 0, 0, 0, 4, 0, 0], 'a 10-byte header chunk');
  t.ok(writes.every((w) => w.corked > 0), 'both writes happen while the socket is corked');
  const frames = await received;
  const gather = writevs.find((chunks) => chunks.includes(payload));
  t.ok(gather !== undefined, 'the payload left in a writev');
  t.equal(gather?.[gather.indexOf(payload) - 1], writes[0]!.chunk, '...right behind its header, in the same writev');
  t.equal(frames.length, 1);
  t.ok(frames[0]!.payload.equals(payload), 'the peer received the frame intact');
  server.terminate();
});
