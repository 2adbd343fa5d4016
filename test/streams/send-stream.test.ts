// Issue 11, "Streaming a message out": ws.sendStream() sends one fragmented message (opcode
// frame, continuations, FIN on the frame of the last chunk), compressed as one DEFLATE stream with
// permessage-deflate, with sends and streams made meanwhile written after it, and a failing source
// closing the connection with 1011 rather than ending the message.
import { Readable } from 'node:stream';
import t from 'tap';
import { InvalidStateError } from '../../lib/errors.js';
import { OP, type Frame } from '../helpers/frames.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { PeerInflater } from '../conformance/deflate.js';
import { serve } from './setup.js';

const dataFrames = (frames: Frame[]): Frame[] => frames.filter((f) => f.opcode < 8);

t.test('a Readable becomes one message: an opcode frame per chunk, continuations, FIN on the last chunk; resolves when written', async (t) => {
  const s = await serve(t);
  const accepted = s.next();
  const peer = await RawPeer.upgrade(s.port);
  t.teardown(() => peer.destroy());
  const ws = await accepted;
  await ws.sendStream(Readable.from([Buffer.from('hello '), Buffer.from('streamed '), Buffer.from('world')], { objectMode: true }));
  await peer.untilFrame((f) => f.fin && f.opcode < 8);
  const frames = dataFrames(peer.frames);
  t.same(frames.map((f) => [f.opcode, f.fin, f.rsv, f.payload.toString()]), [
    [OP.BINARY, false, 0, 'hello '],
    [OP.CONT, false, 0, 'streamed '],
    [OP.CONT, true, 0, 'world'],
  ]);
});

t.test('text: the first frame is a text frame; strings, typed arrays and empty chunks (skipped) from an async generator', async (t) => {
  const s = await serve(t);
  const accepted = s.next();
  const peer = await RawPeer.upgrade(s.port);
  t.teardown(() => peer.destroy());
  const ws = await accepted;
  async function* source(): AsyncGenerator<unknown> {
    yield 'h\u00e9';
    yield Buffer.alloc(0);
    yield new Uint8Array([0x6c, 0x6c]);
  }
  await ws.sendStream(source(), { binary: false });
  await peer.untilFrame((f) => f.fin && f.opcode < 8);
  t.same(dataFrames(peer.frames).map((f) => [f.opcode, f.fin, f.payload.toString('hex')]), [
    [OP.TEXT, false, Buffer.from('h\u00e9').toString('hex')],
    [OP.CONT, true, '6c6c'],
  ]);
});

t.test('permessage-deflate: RSV1 on the first frame only, each fragment a sync-flushed piece of one DEFLATE stream', async (t) => {
  const s = await serve(t, { perMessageDeflate: { threshold: 0 } });
  const accepted = s.next();
  const peer = await RawPeer.upgrade(s.port, { deflate: true });
  t.teardown(() => peer.destroy());
  const ws = await accepted;
  const parts = [Buffer.from('abcabcabcabc'.repeat(100)), Buffer.from('xyz'.repeat(1000)), Buffer.from('abcabcabcabc'.repeat(100))];
  await ws.sendStream(parts);
  await peer.untilFrame((f) => f.fin && f.opcode < 8);
  const frames = dataFrames(peer.frames);
  t.same(frames.map((f) => [f.opcode, f.fin, f.rsv]), [[OP.BINARY, false, 4], [OP.CONT, false, 0], [OP.CONT, true, 0]]);
  // RFC 7692 7.2.1: non-final fragments end with the full flush marker, the final one has it removed.
  for (const f of frames.slice(0, -1)) t.same([...f.payload.subarray(-4)], [0, 0, 0xff, 0xff], 'a sync-flushed fragment');
  const inflater = new PeerInflater();
  t.teardown(() => inflater.close());
  const joined = await inflater.inflate(Buffer.concat(frames.map((f) => f.payload)));
  t.ok(joined.equals(Buffer.concat(parts)), 'the peer inflates the concatenated payloads to the exact bytes');
  t.ok(frames[2]!.payload.length < 100, 'the third fragment refers back into the first one (one stream, one window)');
  // The connection stays usable for a whole compressed message afterwards, in the same context.
  ws.send('after');
  const last = await peer.untilFrame((f) => f.opcode === OP.TEXT);
  t.equal((await inflater.inflate(last!.payload)).toString(), 'after');
});

t.test('send() and sendStream() during sendStream() go out after its last fragment, in call order', async (t) => {
  const s = await serve(t);
  const accepted = s.next();
  const peer = await RawPeer.upgrade(s.port);
  t.teardown(() => peer.destroy());
  const ws = await accepted;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  async function* source(): AsyncGenerator<Buffer> {
    yield Buffer.from('one');
    yield Buffer.from('two');
    await gate;
    yield Buffer.from('three');
  }
  const sending = ws.sendStream(source());
  const sent: string[] = [];
  t.equal(ws.send('queued-1', () => sent.push('queued-1')), true, 'accepted, below the mark');
  let secondPulled = false;
  async function* second(): AsyncGenerator<Buffer> {
    secondPulled = true;
    yield Buffer.from('second');
  }
  const secondDone = ws.sendStream(second());
  ws.send(Buffer.from('queued-2'), () => sent.push('queued-2'));
  t.equal(ws.bufferedAmount >= 16, true, 'held messages count in bufferedAmount');
  await peer.untilFrame((f) => f.payload.toString() === 'one');
  ws.ping('p');
  await peer.untilFrame((f) => f.opcode === OP.PING);
  t.equal(secondPulled, false, 'the second source is not read before its turn');
  release();
  await sending;
  await secondDone;
  await peer.untilFrame((f) => f.payload.toString() === 'queued-2');
  t.same(peer.frames.map((f) => [f.opcode, f.fin, f.payload.toString()]), [
    [OP.BINARY, false, 'one'],
    [OP.PING, true, 'p'],
    [OP.CONT, false, 'two'],
    [OP.CONT, true, 'three'],
    [OP.TEXT, true, 'queued-1'],
    [OP.BINARY, true, 'second'],
    [OP.BINARY, true, 'queued-2'],
  ], 'control frames may interleave, data messages wait their turn');
  t.same(sent, ['queued-1', 'queued-2']);
});

t.test('sends held during a stream that pass the send mark do not stall it (they wait for it, it does not wait for them)', async (t) => {
  const s = await serve(t, { sendHighWaterMark: 64 * 1024 });
  const accepted = s.next();
  const peer = await RawPeer.upgrade(s.port);
  t.teardown(() => peer.destroy());
  const ws = await accepted;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  async function* source(): AsyncGenerator<Buffer> {
    yield Buffer.alloc(1024, 1);
    await gate;
    for (let i = 0; i < 64; i++) yield Buffer.alloc(64 * 1024, 2);
  }
  const sending = ws.sendStream(source());
  t.equal(ws.send(Buffer.alloc(256 * 1024, 3)), false, 'a held send above the mark: send() says wait');
  let drained = false;
  ws.once('drain', () => (drained = true));
  release();
  await sending;
  await peer.untilFrame((f) => f.opcode === OP.BINARY && f.fin);
  const data = dataFrames(peer.frames);
  t.equal(data.length, 1 + 64 + 1, 'the stream\'s frames (FIN on the last chunk), then the held message');
  t.equal(data.at(-1)!.payload.length, 256 * 1024);
  await peer.waitFor(() => drained || ws.bufferedAmount === 0, 5000, 'drain');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(drained, true, "'drain' fired for the held send");
});

t.test('a failing source closes the connection with 1011 (no FIN frame), rejects, and fails the held sends', async (t) => {
  const s = await serve(t);
  const accepted = s.next();
  const peer = await RawPeer.upgrade(s.port);
  t.teardown(() => peer.destroy());
  const ws = await accepted;
  const boom = new Error('disk read failed');
  async function* source(): AsyncGenerator<Buffer> {
    yield Buffer.from('partial');
    yield Buffer.from('held back, never sent');
    throw boom;
  }
  const sending = ws.sendStream(source());
  const heldErr = new Promise<Error | undefined>((resolve) => ws.send('held', resolve));
  const heldStream = ws.sendStream([Buffer.from('never')]);
  await t.rejects(sending, boom);
  t.type(await heldErr, InvalidStateError);
  await t.rejects(heldStream, InvalidStateError, 'a stream queued behind it fails too');
  t.equal(await peer.untilClose(), 1011);
  t.same(peer.frames.filter((f) => f.opcode < 8).map((f) => [f.opcode, f.fin]), [[OP.BINARY, false]], 'the message never ends');
});

t.test('backpressure: a peer that does not read stops the source being read; reading again finishes the message', async (t) => {
  const s = await serve(t, { sendHighWaterMark: 64 * 1024 });
  const accepted = s.next();
  const peer = await RawPeer.upgrade(s.port, { read: false });
  t.teardown(() => peer.destroy());
  const ws = await accepted;
  let pulled = 0;
  const total = 4096;
  async function* source(): AsyncGenerator<Buffer> {
    for (let i = 0; i < total; i++) {
      pulled++;
      yield Buffer.alloc(16 * 1024, i & 0xff);
    }
  }
  let done = false;
  const sending = ws.sendStream(source()).then(() => (done = true));
  // Wait until the sender is blocked: the source stops being pulled while the queue is above the mark.
  let last = -1;
  while (pulled !== last) {
    last = pulled;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(done, false, 'not finished');
  t.ok(pulled < total / 4, `the source was pulled ${pulled} of ${total} times (64 MiB) while the peer read nothing`);
  t.ok(ws.bufferedAmount >= 64 * 1024, 'above the mark');
  t.ok(ws.bufferedAmount < 2 * 1024 * 1024, `bufferedAmount ${ws.bufferedAmount} stays near the mark`);
  peer.startReading();
  await sending;
  t.equal(pulled, total);
  await peer.untilFrame((f) => f.fin && f.opcode < 8);
  const bytes = dataFrames(peer.frames).reduce((n, f) => n + f.payload.length, 0);
  t.equal(bytes, total * 16 * 1024, 'every byte arrived');
});
