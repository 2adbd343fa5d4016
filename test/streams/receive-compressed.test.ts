// Issue 11, streamed receive of permessage-deflate messages: a compressed message is inflated
// piece by piece into its MessageStream (not whole), with backpressure reaching zlib and the
// socket, maxStreamPayload on the inflated size (a bomb stops at the limit), UTF-8 checked as
// it is inflated, corrupt data 1007, context takeover across messages, and a paused stream
// not holding the process-wide zlib limiter.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import zlib from 'node:zlib';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { ProtocolError } from '../../lib/errors.js';
import { setZlibConcurrency, DEFAULT_ZLIB_CONCURRENCY } from '../../lib/extensions/permessage-deflate.js';
import { MESSAGE_STREAM_HIGH_WATER_MARK, MessageStream } from '../../lib/incoming-stream.js';
import type { WebSocket } from '../../lib/websocket.js';
import { OP, type FrameSpec } from '../helpers/frames.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { PeerDeflater } from '../conformance/deflate.js';
import { collect, nextStream, serve, streamThrough, type Test } from './setup.js';

const DEFLATE = { perMessageDeflate: { threshold: 0 } };

async function streamingServer(t: Test, options: Parameters<typeof serve>[1] = {}): Promise<{ peer: RawPeer; ws: WebSocket }> {
  const s = await serve(t, { streamMessages: true, ...DEFLATE, ...options });
  const accepted = s.next();
  const peer = await RawPeer.upgrade(s.port, { deflate: true });
  t.teardown(() => peer.destroy());
  return { peer, ws: await accepted };
}

/** `total` zero bytes raw-deflated chunk by chunk (never held whole), with the sync-flush tail stripped. */
async function deflatedZeros(total: number): Promise<Buffer> {
  const z = zlib.createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const block = Buffer.alloc(1 << 20);
  for (let sent = 0; sent < total; sent += block.length) {
    if (!z.write(block)) await once(z, 'drain');
  }
  await new Promise<void>((resolve) => z.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
  z.close();
  const all = Buffer.concat(out);
  return all.subarray(0, all.length - 4);
}

/** Text that compresses only a little (so its compressed form is long). */
function noisyText(n: number): string {
  return Array.from(randomBytes(n), (b) => String.fromCharCode(0x61 + (b % 26))).join('');
}

t.test('a 256 MiB compressed message streams through (maxPayload 1 MiB) with memory bounded, in many pieces', async (t) => {
  const size = 256 << 20;
  const chunk = 1 << 20;
  const s = await serve(t, { ...DEFLATE, sendHighWaterMark: 1 << 20 });
  const accepted = s.next();
  const client = await connect(s.url, { ...DEFLATE, keepAliveInterval: 0, streamMessages: true, maxPayload: 1 << 20, maxStreamPayload: Infinity });
  t.teardown(() => client.terminate());
  const server = await accepted;
  t.match(client.extensions, /permessage-deflate/);
  const { received, wrong, pieces, peak } = await streamThrough(t, server, client, size, chunk);
  t.equal(received, size);
  t.equal(wrong, 0, 'bytes in order');
  t.ok(pieces > 1000, `${pieces} pieces: inflated as it arrived, not whole`);
  t.ok(peak < 96 << 20, `peak live arrayBuffers growth ${(peak / 2 ** 20).toFixed(1)} MiB while 256 MiB passed (both ends in this process)`);
});

t.test('a zip bomb in stream mode: 1009 at maxStreamPayload, never inflated past it, memory bounded, the server lives', async (t) => {
  const limit = 8 << 20;
  const { peer, ws } = await streamingServer(t, { maxPayload: 1 << 20, maxStreamPayload: limit });
  const bomb = await deflatedZeros(512 << 20);
  t.ok(bomb.length < 1 << 20, `the bomb is ${bomb.length} bytes compressed, 512 MiB inflated`);
  const before = process.memoryUsage().arrayBuffers;
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - before)), 5);
  t.teardown(() => clearInterval(sample));
  const streamP = nextStream(ws);
  void peer.send({ opcode: OP.BINARY, rsv1: true, payload: bomb });
  const stream = await streamP;
  let inflated = 0;
  stream.on('data', (c: Buffer) => (inflated += c.length));
  const [err] = (await once(stream, 'error')) as [ProtocolError];
  t.equal(err.closeCode, 1009);
  t.match(err.message, /maxStreamPayload/);
  t.equal(await peer.untilClose(), 1009);
  clearInterval(sample);
  t.ok(inflated <= limit, `${inflated} bytes delivered (limit ${limit})`);
  t.ok(peak < limit + (24 << 20), `peak arrayBuffers growth ${(peak / 2 ** 20).toFixed(1)} MiB`);
  // The server still serves.
  const other = await streamingServer(t);
  const nextP = nextStream(other.ws);
  await other.peer.send({ opcode: OP.TEXT, payload: 'alive' });
  t.equal((await collect(await nextP)).data.toString(), 'alive');
});

t.test('corrupt compressed data: the stream errors with 1007 and the connection closes 1007', async (t) => {
  const { peer, ws } = await streamingServer(t);
  const streamP = nextStream(ws);
  // Block type 3 (reserved) in the first byte: invalid DEFLATE.
  await peer.send({ opcode: OP.BINARY, rsv1: true, payload: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]) });
  const stream = await streamP;
  const [err] = (await once(stream, 'error')) as [ProtocolError];
  t.equal(err.closeCode, 1007);
  t.equal(await peer.untilClose(), 1007);
});

t.test('invalid UTF-8 inside compressed text: the valid text before it, then 1007', async (t) => {
  const { peer, ws } = await streamingServer(t);
  const deflater = new PeerDeflater();
  t.teardown(() => deflater.close());
  const good = Buffer.from(noisyText(200_000));
  const payload = await deflater.compress(Buffer.concat([good, Buffer.from([0xed, 0xa0, 0x80]), good]));
  const streamP = nextStream(ws);
  await peer.send({ opcode: OP.TEXT, rsv1: true, payload });
  const stream = await streamP;
  t.equal(stream.isBinary, false);
  let seen = 0;
  stream.on('data', (c: Buffer) => (seen += c.length));
  const [err] = (await once(stream, 'error')) as [ProtocolError];
  t.equal(err.closeCode, 1007);
  t.ok(seen > 0 && seen < good.length + 3, `${seen} valid bytes delivered before the failure`);
  t.equal(await peer.untilClose(), 1007);
});

t.test('context takeover across consecutive streamed messages, fragmented, text and binary', async (t) => {
  const { peer, ws } = await streamingServer(t);
  const deflater = new PeerDeflater();
  t.teardown(() => deflater.close());
  const base = noisyText(20_000);
  const messages = [base, base + ' again', 'h\u00e9 ' + base.slice(0, 12_000), base.split('').reverse().join('')];
  for (const [i, text] of messages.entries()) {
    const payload = await deflater.compress(text);
    const streamP = nextStream(ws);
    const binary = i % 2 === 1;
    const cut = [0, Math.floor(payload.length / 3), Math.floor((2 * payload.length) / 3), payload.length];
    const specs: FrameSpec[] = [0, 1, 2].map((k) => ({
      opcode: k === 0 ? (binary ? OP.BINARY : OP.TEXT) : OP.CONT, fin: k === 2, rsv1: k === 0, payload: payload.subarray(cut[k], cut[k + 1]),
    }));
    await peer.send(specs);
    const stream = await streamP;
    t.equal(stream.isBinary, binary);
    t.equal((await collect(stream)).data.toString(), text, `message ${i} (${payload.length} compressed bytes, refers back to earlier ones)`);
  }
  t.ok((await deflater.compress(messages[3]!)).length < 1000, 'the peer really takes context over');
});

t.test('tiny compressed fragments: one-byte frames are inflated in batches and pushed as a few chunks', async (t) => {
  const { peer, ws } = await streamingServer(t);
  const deflater = new PeerDeflater();
  t.teardown(() => deflater.close());
  const text = noisyText(40_000);
  const payload = await deflater.compress(text);
  const specs: FrameSpec[] = [];
  for (let i = 0; i < payload.length; i++) {
    specs.push({ opcode: i === 0 ? OP.TEXT : OP.CONT, fin: i === payload.length - 1, rsv1: i === 0, payload: payload.subarray(i, i + 1) });
  }
  const streamP = nextStream(ws);
  void peer.send(peer.encode(specs), { chunk: 64 * 1024 });
  const { data, pieces } = await collect(await streamP);
  t.equal(data.toString(), text);
  t.ok(payload.length > 20_000, `${payload.length} one-byte frames`);
  t.ok(pieces <= Math.ceil(text.length / 4096) + 10, `${pieces} pushes for ${text.length} bytes`);
});

t.test('backpressure: an unread compressed stream stops zlib and the socket, and frees its zlib limiter slot', async (t) => {
  setZlibConcurrency(1);
  t.teardown(() => setZlibConcurrency(DEFAULT_ZLIB_CONCURRENCY));
  const { peer, ws } = await streamingServer(t, { maxStreamPayload: Infinity });
  const bomb = await deflatedZeros(64 << 20);
  const streamP = nextStream(ws);
  void peer.send({ opcode: OP.BINARY, rsv1: true, payload: bomb });
  const stream = await streamP;
  let last = -1;
  while (stream.readableLength !== last) {
    last = stream.readableLength;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(stream.readableLength >= MESSAGE_STREAM_HIGH_WATER_MARK, `the stream filled to ${stream.readableLength} bytes`);
  t.ok(stream.readableLength <= MESSAGE_STREAM_HIGH_WATER_MARK + 64 * 1024, 'and stopped there: zlib holds its output');
  // With one zlib slot in the process, another connection's compressed message still inflates.
  const other = await streamingServer(t);
  const deflater = new PeerDeflater();
  t.teardown(() => deflater.close());
  const nextP = nextStream(other.ws);
  await other.peer.send({ opcode: OP.TEXT, rsv1: true, payload: await deflater.compress('meanwhile') });
  t.equal((await collect(await nextP)).data.toString(), 'meanwhile');
  // Reading the first stream resumes it to the end.
  let n = 0;
  for await (const c of stream) n += (c as Buffer).length;
  t.equal(n, 64 << 20);
  ws.send('after');
  await peer.untilFrame((f) => f.opcode === OP.TEXT);
});
