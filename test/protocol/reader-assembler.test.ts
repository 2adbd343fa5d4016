// The two halves of the receive path on their own: FrameReader (exact frames
// out) and MessageAssembler in per-fragment mode (exact pieces out), exact
// bytes in, over every chunking down to one byte.
import t from 'tap';
import type { ProtocolError } from '../../lib/errors.js';
import { FrameReader, type FrameHandler } from '../../lib/protocol/frame-reader.js';
import { FrameParser, type FrameSink } from '../../lib/protocol/frame-parser.js';
import { cframe, sframe } from '../helpers/frames.js';
import { CHUNKINGS } from './fixtures/recorder.js';

const TEXT = 0x1, BIN = 0x2, CONT = 0x0, CLOSE = 0x8, PING = 0x9, PONG = 0xa;

/** Feed bytes in chunks of `size` (0 = all at once), each chunk a fresh buffer. */
function feed(push: (b: Buffer) => void, bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  const step = size <= 0 ? bytes.length : size;
  for (let i = 0; i < bytes.length; i += step) chunks.push(Buffer.from(bytes.subarray(i, i + step)));
  for (const c of chunks) push(c);
  return chunks;
}

/** A FrameHandler that records whole frames (pieces joined) and checks the piece contract. */
class FrameRecorder implements FrameHandler {
  events: unknown[] = [];
  pieces: Buffer[] = [];
  private cur: Buffer[] = [];
  private head: [number, boolean, boolean, number] | null = null;
  onFrameStart(opcode: number, fin: boolean, rsv1: boolean, length: number): ProtocolError | null {
    this.head = [opcode, fin, rsv1, length];
    return null;
  }
  onFrameData(buf: Buffer, start: number, end: number, frameEnd: boolean): ProtocolError | null {
    if (start === end && !(frameEnd && this.head![3] === 0)) this.events.push(['empty piece']);
    const p = buf.subarray(start, end);
    this.pieces.push(p);
    this.cur.push(Buffer.from(p));
    if (frameEnd) {
      const [op, fin, rsv1, len] = this.head!;
      const payload = Buffer.concat(this.cur);
      if (payload.length !== len) this.events.push(['length mismatch', len, payload.length]);
      this.events.push(['frame', op, fin, rsv1, payload.toString('hex')]);
      this.cur = [];
      this.head = null;
    }
    return null;
  }
  onControl(opcode: number, payload: Buffer): void {
    this.events.push(['control', opcode, payload.toString('hex')]);
  }
  onError(err: ProtocolError): void {
    this.events.push(['error', err.closeCode]);
  }
  onStop(): void {}
}

const hex = (s: string) => Buffer.from(s).toString('hex');

t.test('reader alone: frames out, exact, every chunking', async (t) => {
  const big = Buffer.alloc(70001);
  for (let i = 0; i < big.length; i++) big[i] = (i * 13 + 5) & 0xff;
  const bytes = Buffer.concat([
    cframe({ opcode: TEXT, fin: false, payload: 'Hel' }),
    cframe({ opcode: PING, payload: 'p' }),
    cframe({ opcode: CONT, fin: false }),
    cframe({ opcode: CONT, payload: 'lo' }),
    cframe({ opcode: BIN, rsv1: true, payload: Buffer.alloc(300, 7) }),
    cframe({ opcode: BIN, payload: big }),
    cframe({ opcode: BIN }),
    cframe({ opcode: PONG }),
    cframe({ opcode: CLOSE, payload: Buffer.from([0x03, 0xe8]) }),
  ]);
  const expected = [
    ['frame', TEXT, false, false, hex('Hel')],
    ['control', PING, hex('p')],
    ['frame', CONT, false, false, ''],
    ['frame', CONT, true, false, hex('lo')],
    ['frame', BIN, true, true, Buffer.alloc(300, 7).toString('hex')],
    ['frame', BIN, true, false, big.toString('hex')],
    ['frame', BIN, true, false, ''],
    ['control', PONG, ''],
    ['control', CLOSE, '03e8'],
  ];
  for (const size of [...CHUNKINGS, 4093]) {
    const h = new FrameRecorder();
    const r = new FrameReader(h, { expectMasked: true, allowRsv1: true });
    const chunks = feed((b) => r.push(b), bytes, size);
    t.same(h.events, expected, `chunk ${size}`);
    t.equal(r.bufferedAmount, 0);
    // Zero copy: every piece is a view of one of the received chunks.
    const bufs = new Set(chunks.map((c) => c.buffer));
    t.ok(h.pieces.filter((p) => p.length > 0).every((p) => bufs.has(p.buffer as ArrayBuffer)), `pieces are slices, chunk ${size}`);
  }
});

t.test('reader alone: per-frame rules fail with the right code', async (t) => {
  const cases: Array<[string, Buffer, number, boolean?]> = [
    ['RSV1 not negotiated', cframe({ opcode: TEXT, rsv1: true }), 1002],
    ['RSV1 on continuation', Buffer.concat([cframe({ opcode: TEXT, fin: false, rsv1: true }), cframe({ opcode: CONT, rsv1: true })]), 1002, true],
    ['RSV2', cframe({ opcode: TEXT, rsv2: true }), 1002],
    ['reserved opcode', cframe({ opcode: 3 }), 1002],
    ['fragmented ping', cframe({ opcode: PING, fin: false }), 1002],
    ['unmasked', sframe({ opcode: TEXT, payload: 'a' }), 1002],
    ['continuation without a message', cframe({ opcode: CONT }), 1002],
    ['new message inside one', Buffer.concat([cframe({ opcode: TEXT, fin: false }), cframe({ opcode: BIN })]), 1002],
    ['64-bit MSB', cframe({ opcode: BIN, lenBits: 64, declaredLength: 0x8000000000000000n }), 1002],
    ['2^53', cframe({ opcode: BIN, lenBits: 64, declaredLength: 2n ** 53n }), 1009],
  ];
  for (const [name, bytes, code, rsv1] of cases) {
    for (const size of CHUNKINGS) {
      const h = new FrameRecorder();
      const r = new FrameReader(h, { expectMasked: true, allowRsv1: rsv1 === true });
      feed((b) => r.push(b), Buffer.concat([bytes, cframe({ opcode: TEXT, payload: 'x' })]), size);
      const last = h.events[h.events.length - 1];
      t.same(last, ['error', code], `${name}, chunk ${size}`);
      t.equal(h.events.filter((e) => (e as unknown[])[0] === 'error').length, 1);
    }
  }
});

type Ev = ['start', boolean] | ['data', string, boolean] | ['message', string, boolean] | ['control', number, string] | ['error', number] | ['compressed', string, boolean];

/** A FrameSink for FrameParser: per-fragment pieces recorded one by one. */
class PieceSink implements FrameSink {
  events: Ev[] = [];
  pieces: Buffer[] = [];
  onMessage(data: Buffer, isBinary: boolean): void {
    this.events.push(['message', isBinary ? data.toString('hex') : data.toString(), isBinary]);
  }
  onControl(opcode: number, payload: Buffer): void {
    this.events.push(['control', opcode, payload.toString('hex')]);
  }
  onCompressedFrame(data: Buffer, fin: boolean): void {
    this.events.push(['compressed', data.toString('hex'), fin]);
  }
  onParseError(err: ProtocolError): void {
    this.events.push(['error', err.closeCode]);
  }
  onMessageStart(isBinary: boolean): void {
    this.events.push(['start', isBinary]);
  }
  onData(chunk: Buffer, fin: boolean): void {
    this.pieces.push(chunk);
    this.events.push(['data', chunk.toString('hex'), fin]);
  }
  /** Events with consecutive data pieces joined (what does not depend on the chunking). */
  joined(): unknown[] {
    const out: unknown[] = [];
    for (const e of this.events) {
      const prev = out[out.length - 1] as Ev | undefined;
      if (e[0] === 'data' && prev?.[0] === 'data' && prev[2] === false) out[out.length - 1] = ['data', prev[1] + e[1], e[2]];
      else out.push([...e]);
    }
    return out;
  }
  /** Piece contract: never empty except an empty final piece; nothing after a fin before the next start. */
  contract(): string | null {
    let open = false;
    for (const e of this.events) {
      if (e[0] === 'start') {
        if (open) return 'start inside a message';
        open = true;
      } else if (e[0] === 'data') {
        if (!open) return 'data outside a message';
        if (e[1] === '' && !e[2]) return 'empty non-final piece';
        if (e[2]) open = false;
      }
    }
    return null;
  }
}

function parser(sink: FrameSink, opts: { maxPayload?: number; maxFragments?: number; allowRsv1?: boolean } = {}): FrameParser {
  return new FrameParser(sink, {
    expectMasked: true,
    allowRsv1: opts.allowRsv1 ?? false,
    maxPayload: opts.maxPayload ?? 1 << 20,
    maxFragments: opts.maxFragments ?? 1000,
    perFragment: true,
  });
}

t.test('per-fragment: pieces and fin in order, joined they are the message', async (t) => {
  const euro = Buffer.from('€𝄞', 'utf8');
  const big = Buffer.alloc(5000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  const bytes = Buffer.concat([
    cframe({ opcode: TEXT, fin: false, payload: euro.subarray(0, 2) }),
    cframe({ opcode: PING, payload: 'p' }),
    cframe({ opcode: CONT, fin: false }),
    cframe({ opcode: CONT, fin: false, payload: euro.subarray(2, 5) }),
    cframe({ opcode: CONT, payload: euro.subarray(5) }),
    cframe({ opcode: BIN, payload: big }),
    cframe({ opcode: BIN, fin: false, payload: 'ab' }),
    cframe({ opcode: CONT }),
    cframe({ opcode: TEXT }),
  ]);
  const expected = [
    ['start', false],
    ['control', PING, hex('p')],
    ['data', euro.toString('hex'), true],
    ['start', true],
    ['data', big.toString('hex'), true],
    ['start', true],
    ['data', hex('ab'), true], // joined: 'ab' (not fin), then the empty fin piece
    ['start', false],
    ['data', '', true],
  ];
  for (const size of CHUNKINGS) {
    const s = new PieceSink();
    const p = parser(s);
    const chunks = feed((b) => p.push(b), bytes, size);
    t.same(s.contract(), null, `contract, chunk ${size}`);
    const joined = s.joined();
    const noCtl = joined.filter((e) => (e as Ev)[0] !== 'control');
    const expNoCtl = expected.filter((e) => e[0] !== 'control');
    // The first fragment's piece comes before the ping, the rest after it: join across the ping.
    const merged: unknown[] = [];
    for (const e of noCtl as Ev[]) {
      const prev = merged[merged.length - 1] as Ev | undefined;
      if (e[0] === 'data' && prev?.[0] === 'data' && prev[2] === false) merged[merged.length - 1] = ['data', prev[1] + e[1], e[2]];
      else merged.push(e);
    }
    t.same(merged, expNoCtl, `messages, chunk ${size}`);
    t.ok(s.events.findIndex((e) => e[0] === 'control') > s.events.findIndex((e) => e[0] === 'start'), 'ping after the start');
    // Zero copy: every non-empty piece is a view of a received chunk.
    const bufs = new Set(chunks.map((c) => c.buffer));
    t.ok(s.pieces.filter((c) => c.length > 0).every((c) => bufs.has(c.buffer as ArrayBuffer)), `pieces are slices, chunk ${size}`);
  }
});

t.test('per-fragment: a frame is handed on as it arrives, before it is complete', async (t) => {
  const payload = Buffer.alloc(1000, 0x61);
  const f = cframe({ opcode: TEXT, payload });
  const s = new PieceSink();
  const p = parser(s);
  p.push(Buffer.from(f.subarray(0, 6 + 2 + 300)));
  t.same(s.events, [['start', false], ['data', Buffer.alloc(300, 0x61).toString('hex'), false]]);
  p.push(Buffer.from(f.subarray(308)));
  t.same(s.events.slice(2), [['data', Buffer.alloc(700, 0x61).toString('hex'), true]]);
});

t.test('per-fragment: UTF-8 fails fast, across fragments and inside an unfinished frame', async (t) => {
  // Inside an unfinished frame: 1000-byte frame, the 0xc0 at payload offset 6, only 30 bytes arrive.
  const bad = Buffer.concat([Buffer.from('hello '), Buffer.from([0xc0, 0xaf]), Buffer.alloc(992, 0x61)]);
  const f = cframe({ opcode: TEXT, payload: bad });
  for (const size of CHUNKINGS) {
    const s = new PieceSink();
    const p = parser(s);
    feed((b) => p.push(b), f.subarray(0, 30), size);
    t.same(s.events[s.events.length - 1], ['error', 1007], `mid-frame, chunk ${size}`);
    const delivered = Buffer.from(s.events.filter((e) => e[0] === 'data').map((e) => e[1]).join(''), 'hex');
    t.ok(delivered.length <= 6 && Buffer.from('hello ').subarray(0, delivered.length).equals(delivered), 'only valid bytes were handed on');
    t.notOk(s.events.some((e) => e[0] === 'data' && e[2]), 'no fin piece');
  }
  // Across a fragment boundary: ED A0 (a surrogate) split over two fragments, nothing after it.
  for (const size of CHUNKINGS) {
    const s = new PieceSink();
    const p = parser(s);
    feed((b) => p.push(b), Buffer.concat([
      cframe({ opcode: TEXT, fin: false, payload: Buffer.from('61ed', 'hex') }),
      cframe({ opcode: CONT, fin: false, payload: Buffer.from('a0', 'hex') }),
    ]), size);
    t.same(s.joined(), [['start', false], ['data', '61ed', false], ['error', 1007]], `across fragments, chunk ${size}`);
  }
  // The message ends inside a sequence: 1007 instead of the fin piece.
  for (const size of CHUNKINGS) {
    for (const lastEmpty of [false, true]) {
      const s = new PieceSink();
      const p = parser(s);
      feed((b) => p.push(b), Buffer.concat([
        cframe({ opcode: TEXT, fin: false, payload: Buffer.from('41', 'hex') }),
        lastEmpty ? cframe({ opcode: CONT, fin: false, payload: Buffer.from('e282', 'hex') }) : cframe({ opcode: CONT, payload: Buffer.from('e282', 'hex') }),
        ...(lastEmpty ? [cframe({ opcode: CONT })] : []),
      ]), size);
      const j = s.joined();
      t.same(j[j.length - 1], ['error', 1007], `ends mid-sequence (empty last frame: ${lastEmpty}), chunk ${size}`);
      t.notOk(s.events.some((e) => e[0] === 'data' && e[2]), 'no fin piece');
    }
  }
  // A valid sequence split across fragments passes.
  const s = new PieceSink();
  const p = parser(s);
  const euro = Buffer.from('€', 'utf8');
  feed((b) => p.push(b), Buffer.concat([cframe({ opcode: TEXT, fin: false, payload: euro.subarray(0, 1) }), cframe({ opcode: CONT, payload: euro.subarray(1) })]), 1);
  t.same(s.joined(), [['start', false], ['data', euro.toString('hex'), true]]);
});

t.test('per-fragment: maxPayload on the running total (1009 at the header), maxFragments', async (t) => {
  for (const size of CHUNKINGS) {
    const s = new PieceSink();
    const p = parser(s, { maxPayload: 10 });
    const second = cframe({ opcode: CONT, payload: Buffer.alloc(5, 0x62) });
    // Only the header of the frame that goes over arrives: the failure must not wait for its payload.
    feed((b) => p.push(b), Buffer.concat([cframe({ opcode: BIN, fin: false, payload: Buffer.alloc(6, 0x61) }), second.subarray(0, 6)]), size);
    t.same(s.joined(), [['start', true], ['data', Buffer.alloc(6, 0x61).toString('hex'), false], ['error', 1009]], `maxPayload, chunk ${size}`);
    t.equal(p.bufferedAmount, 0, 'input dropped');
    // Exactly maxPayload is fine.
    const s2 = new PieceSink();
    const p2 = parser(s2, { maxPayload: 10 });
    feed((b) => p2.push(b), Buffer.concat([cframe({ opcode: BIN, fin: false, payload: Buffer.alloc(6) }), cframe({ opcode: CONT, payload: Buffer.alloc(4) })]), size);
    t.same(s2.joined(), [['start', true], ['data', Buffer.alloc(10).toString('hex'), true]]);
    // maxFragments: 3 frames pass, the 4th fails.
    const s3 = new PieceSink();
    const p3 = parser(s3, { maxFragments: 3 });
    feed((b) => p3.push(b), Buffer.concat([
      cframe({ opcode: TEXT, fin: false, payload: 'a' }), cframe({ opcode: CONT, fin: false, payload: 'b' }),
      cframe({ opcode: CONT, fin: false, payload: 'c' }), cframe({ opcode: CONT, payload: 'd' }),
    ]), size);
    t.same(s3.joined(), [['start', false], ['data', hex('abc'), false], ['error', 1009]], `maxFragments, chunk ${size}`);
  }
});

t.test('per-fragment: pausing inside onData keeps the rest queued; compressed messages keep their path', async (t) => {
  const s = new PieceSink();
  const p = parser(s, { allowRsv1: true });
  const orig = s.onData.bind(s);
  s.onData = (c, fin) => { orig(c, fin); p.halt |= 1; };
  const bytes = Buffer.concat([cframe({ opcode: BIN, fin: false, payload: 'ab' }), cframe({ opcode: CONT, payload: 'cd' })]);
  p.push(Buffer.from(bytes));
  t.same(s.events, [['start', true], ['data', hex('ab'), false]]);
  t.equal(p.bufferedAmount, 8);
  p.halt &= ~1;
  p.run();
  t.same(s.events.slice(2), [['data', hex('cd'), true]]);
  const s2 = new PieceSink();
  const p2 = parser(s2, { allowRsv1: true });
  p2.push(Buffer.concat([cframe({ opcode: TEXT, rsv1: true, fin: false, payload: 'xy' }), cframe({ opcode: CONT, payload: 'z' })]));
  t.same(s2.events, [['compressed', hex('xy'), false], ['compressed', hex('z'), true]]);
  t.throws(() => new FrameParser({ onMessage() {}, onControl() {}, onCompressedFrame() {}, onParseError() {} },
    { expectMasked: true, allowRsv1: false, maxPayload: 10, maxFragments: 10, perFragment: true }), TypeError);
});

t.test('whole-message mode: a single-frame message is a slice of the received chunk', async (t) => {
  const events: Buffer[] = [];
  const sink: FrameSink = { onMessage: (d) => events.push(d), onControl() {}, onCompressedFrame() {}, onParseError() { throw new Error('unexpected'); } };
  const p = new FrameParser(sink, { expectMasked: false, allowRsv1: false, maxPayload: 1 << 20, maxFragments: 100 });
  const chunk = Buffer.concat([
    sframe({ opcode: BIN, payload: Buffer.alloc(40, 1) }),
    sframe({ opcode: TEXT, payload: 'abc' }),
    sframe({ opcode: BIN, fin: false, payload: 'x' }),
    sframe({ opcode: CONT, payload: 'y' }),
  ]);
  p.push(chunk);
  t.equal(events.length, 3);
  t.equal(events[0].buffer, chunk.buffer, 'binary: same ArrayBuffer');
  t.equal(events[0].byteOffset, chunk.byteOffset + 2);
  t.equal(events[1].buffer, chunk.buffer, 'text: same ArrayBuffer');
  t.equal(events[1].byteOffset, chunk.byteOffset + 44);
  t.equal(events[2].toString(), 'xy', 'two fragments joined');
  // A masked message in one chunk: unmasked in place, still the same memory.
  const got: Buffer[] = [];
  const server = new FrameParser({ ...sink, onMessage: (d) => got.push(d) }, { expectMasked: true, allowRsv1: false, maxPayload: 1 << 20, maxFragments: 100 });
  const masked = cframe({ opcode: BIN, payload: Buffer.alloc(300, 0x22) });
  server.push(masked);
  t.equal(got[0].buffer, masked.buffer);
  t.equal(got[0].byteOffset, masked.byteOffset + 8);
  t.ok(got[0].equals(Buffer.alloc(300, 0x22)));
});
