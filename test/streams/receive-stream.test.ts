// Issue 11, "Streaming a message in": with streamMessages a message arrives as a Readable
// while its frames still arrive, tiny fragments coalesced, limits (maxPayload, or
// maxStreamPayload when raised) and UTF-8 still enforced mid-stream with the right close
// codes, a truncated message never ending normally, and an unread stream stopping the socket.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { ProtocolError, WebSocketError } from '../../lib/errors.js';
import { MESSAGE_STREAM_HIGH_WATER_MARK, MessageStream } from '../../lib/incoming-stream.js';
import type { WebSocket } from '../../lib/websocket.js';
import { closePayload, OP, type FrameSpec } from '../helpers/frames.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { PeerDeflater } from '../conformance/deflate.js';
import { chunks, collect, nextStream, serve, streamThrough, type Test } from './setup.js';

async function streamingServer(t: Test, options: Parameters<typeof serve>[1] = {}): Promise<{ peer: RawPeer; ws: WebSocket }> {
  const s = await serve(t, { streamMessages: true, ...options });
  const accepted = s.next();
  const peer = await RawPeer.upgrade(s.port, { deflate: options.perMessageDeflate !== undefined });
  t.teardown(() => peer.destroy());
  return { peer, ws: await accepted };
}

t.test('the first frame is readable before the last one is sent; no message event; isBinary kept', async (t) => {
  const { peer, ws } = await streamingServer(t);
  let messages = 0;
  ws.on('message', () => messages++);
  const streamP = nextStream(ws);
  await peer.send({ opcode: OP.BINARY, fin: false, payload: 'first ' });
  const stream = await streamP;
  t.equal(stream.isBinary, true);
  const [first] = (await once(stream, 'data')) as [Buffer];
  t.equal(first.toString(), 'first ', 'delivered while the message is still open');
  stream.pause();
  await peer.send([{ opcode: OP.CONT, fin: false, payload: 'second ' }, { opcode: OP.CONT, fin: true, payload: 'last' }]);
  t.equal((await collect(stream)).data.toString(), 'second last');
  // The next message is a new stream; text ones are text.
  const textP = nextStream(ws);
  await peer.send({ opcode: OP.TEXT, payload: 'h\u00e9' });
  const text = await textP;
  t.equal(text.isBinary, false);
  text.setEncoding('utf8');
  let s = '';
  for await (const c of text) s += c as string;
  t.equal(s, 'h\u00e9');
  t.equal(messages, 0, 'no message events in stream mode');
});

t.test('hostile tiny fragments: 40 000 one-byte frames arrive in 16 KiB chunks, not 40 000 pushes', async (t) => {
  const { peer, ws } = await streamingServer(t);
  const n = 40_000;
  const specs: FrameSpec[] = [];
  for (let i = 0; i < n; i++) specs.push({ opcode: i === 0 ? OP.BINARY : OP.CONT, fin: i === n - 1, payload: Buffer.from([i & 0xff]) });
  const streamP = nextStream(ws);
  void peer.send(peer.encode(specs), { chunk: 64 * 1024 });
  const { data, pieces } = await collect(await streamP);
  t.equal(data.length, n);
  t.ok(data.every((b, i) => b === (i & 0xff)), 'exact bytes');
  t.ok(pieces <= 2 * Math.ceil(n / 16384) + 10, `${pieces} pushes`);
  ws.send('alive');
  await peer.untilFrame((f) => f.opcode === OP.TEXT);
});

t.test('maxPayload applies in stream mode unless maxStreamPayload raises it: 1009 before the payload, the stream errors', async (t) => {
  await t.test('default: maxStreamPayload = maxPayload', async (t) => {
    const { peer, ws } = await streamingServer(t, { maxPayload: 1000 });
    const streamP = nextStream(ws);
    await peer.send({ opcode: OP.BINARY, fin: false, payload: Buffer.alloc(600) });
    const stream = await streamP;
    const errP = once(stream, 'error');
    await peer.send({ opcode: OP.CONT, fin: true, payload: Buffer.alloc(600) });
    const [err] = (await errP) as [ProtocolError];
    t.type(err, ProtocolError);
    t.equal(err.closeCode, 1009);
    t.equal(await peer.untilClose(), 1009);
  });
  await t.test('raised: 3 MiB pass with maxPayload 1 MiB, a declared 5 MiB frame past maxStreamPayload 4 MiB is refused', async (t) => {
    const { peer, ws } = await streamingServer(t, { maxPayload: 1 << 20, maxStreamPayload: 4 << 20 });
    const streamP = nextStream(ws);
    void peer.send({ opcode: OP.BINARY, payload: Buffer.alloc(3 << 20, 7) });
    const { data } = await collect(await streamP);
    t.equal(data.length, 3 << 20);
    await peer.send({ opcode: OP.BINARY, fin: false, payload: Buffer.alloc(10) });
    // Only the header of the second frame: the refusal must not wait for its payload.
    await peer.write(Buffer.from([0x80, 0xff, 0, 0, 0, 0, 0, 0x50, 0, 0, 1, 2, 3, 4]));
    t.equal(await peer.untilClose(), 1009);
  });
});

t.test('invalid UTF-8 in the middle of a streamed text message: the text before it, then a 1007 stream error and close', async (t) => {
  const { peer, ws } = await streamingServer(t);
  const streamP = nextStream(ws);
  await peer.send({ opcode: OP.TEXT, fin: false, payload: 'valid so far ' });
  const stream = await streamP;
  const [first] = (await once(stream, 'data')) as [Buffer];
  t.equal(first.toString(), 'valid so far ');
  const errP = once(stream, 'error');
  await peer.send({ opcode: OP.CONT, fin: false, payload: Buffer.from([0x61, 0xed, 0xa0, 0x80]) });
  const [err] = (await errP) as [ProtocolError];
  t.equal(err.closeCode, 1007);
  t.equal(await peer.untilClose(), 1007);
});

t.test('a close frame in the middle of a message: the stream errors (truncated), it never ends', async (t) => {
  const { peer, ws } = await streamingServer(t);
  const streamP = nextStream(ws);
  await peer.send({ opcode: OP.BINARY, fin: false, payload: 'part' });
  const stream = await streamP;
  let ended = false;
  stream.on('end', () => (ended = true));
  stream.resume();
  const errP = once(stream, 'error');
  await peer.send({ opcode: OP.CLOSE, payload: closePayload(1000) });
  const [err] = (await errP) as [WebSocketError];
  t.equal(err.code, 'ERR_WS_MESSAGE_TRUNCATED');
  t.equal(ended, false);
  t.equal(await peer.untilClose(), 1000);
});

t.test('no error listener on the stream: a hostile cut does not crash the process, the stream closes without end', async (t) => {
  const { peer, ws } = await streamingServer(t);
  const streamP = nextStream(ws);
  await peer.send({ opcode: OP.BINARY, fin: false, payload: 'part' });
  const stream = await streamP;
  let ended = false;
  stream.on('data', () => {}).on('end', () => (ended = true));
  await peer.send({ opcode: OP.CONT, fin: false, rsv2: true, payload: 'x' });
  // (events.once would add an 'error' listener.)
  await new Promise((resolve) => stream.once('close', resolve));
  t.equal(stream.listenerCount('error'), 0);
  t.equal(ended, false);
  t.equal(await peer.untilClose(), 1002);
});

t.test('a destroyed stream skips the rest of its message; the next message arrives', async (t) => {
  const { peer, ws } = await streamingServer(t);
  const streamP = nextStream(ws);
  await peer.send({ opcode: OP.BINARY, fin: false, payload: Buffer.alloc(200 * 1024, 1) });
  (await streamP).destroy();
  const nextP = nextStream(ws);
  await peer.send([{ opcode: OP.CONT, fin: true, payload: Buffer.alloc(300 * 1024, 2) }, { opcode: OP.TEXT, payload: 'next' }]);
  t.equal((await collect(await nextP)).data.toString(), 'next');
});

t.test('permessage-deflate: a compressed message also arrives as a stream', async (t) => {
  const { peer, ws } = await streamingServer(t, { perMessageDeflate: { threshold: 0 } });
  const deflater = new PeerDeflater();
  t.teardown(() => deflater.close());
  const text = 'compressible '.repeat(1000);
  const streamP = nextStream(ws);
  await peer.send({ opcode: OP.TEXT, rsv1: true, payload: await deflater.compress(text) });
  const stream = await streamP;
  t.equal(stream.isBinary, false);
  t.equal((await collect(stream)).data.toString(), text);
});

t.test('backpressure: an unread stream stops the socket; the sender blocks; reading resumes it', async (t) => {
  const s = await serve(t, { streamMessages: true, maxStreamPayload: Infinity });
  const accepted = s.next();
  const client = await connect(s.url, { keepAliveInterval: 0, sendHighWaterMark: 64 * 1024 });
  t.teardown(() => client.terminate());
  const server = await accepted;
  const streamP = nextStream(server);
  let pulled = 0;
  const total = 4096;
  async function* source(): AsyncGenerator<Buffer> {
    for (let i = 0; i < total; i++) {
      pulled++;
      yield Buffer.alloc(16 * 1024, i & 0xff);
    }
  }
  let done = false;
  const sending = client.sendStream(source()).then(() => (done = true));
  const stream = await streamP;
  let last = -1;
  while (pulled !== last) {
    last = pulled;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(done, false, 'the sender is blocked');
  t.ok(pulled < total / 4, `the sender's source was pulled ${pulled} of ${total} times while nothing was read`);
  t.ok(client.bufferedAmount >= 64 * 1024, `the sender's bufferedAmount (${client.bufferedAmount}) is at its mark`);
  t.ok(stream.readableLength <= MESSAGE_STREAM_HIGH_WATER_MARK + 64 * 1024, `the stream holds ${stream.readableLength} bytes (its high-water mark is 1 MiB)`);
  const hash = createHash('sha1');
  let n = 0;
  for await (const c of stream) {
    hash.update(c as Buffer);
    n += (c as Buffer).length;
  }
  await sending;
  t.equal(n, total * 16 * 1024);
  const expected = createHash('sha1');
  for (let i = 0; i < total; i++) expected.update(Buffer.alloc(16 * 1024, i & 0xff));
  t.equal(hash.digest('hex'), expected.digest('hex'), 'exact bytes');
});

t.test('a 512 MiB message (maxPayload 64 MiB) passes with memory bounded by the marks, not the message', async (t) => {
  const size = 512 << 20;
  const chunk = 1 << 20;
  const s = await serve(t, { sendHighWaterMark: 1 << 20 });
  const accepted = s.next();
  const client = await connect(s.url, { keepAliveInterval: 0, streamMessages: true, maxStreamPayload: 1 << 30 });
  t.teardown(() => client.terminate());
  const server = await accepted;
  const { received, wrong, peak } = await streamThrough(t, server, client, size, chunk);
  t.equal(received, size);
  t.equal(wrong, 0, 'bytes in order');
  t.ok(peak < 96 << 20, `peak live arrayBuffers growth ${(peak / 2 ** 20).toFixed(1)} MiB while 512 MiB passed (both ends in this process)`);
});
