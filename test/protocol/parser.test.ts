// Byte-exact receive path: frames in (whole and in every chunking), events
// and written bytes out, every failure with its close code.
import t from 'tap';
import { Connection } from '../../lib/protocol/connection.js';
import { cframe, frame, parseFrames, sframe, type FrameSpec } from '../helpers/frames.js';
import { CHUNKINGS, Recorder } from './fixtures/recorder.js';
import { canComplete } from './fixtures/utf8-reference.js';

const TEXT = 0x1, BIN = 0x2, CONT = 0x0, CLOSE = 0x8, PING = 0x9, PONG = 0xa;

t.test('RFC 6455 5.7 examples, every chunking', async (t) => {
  for (const size of CHUNKINGS) {
    // A single-frame masked text message (client -> server).
    let r = new Recorder({ role: 'server' });
    r.feed(Buffer.from('818537fa213d7f9f4d5158', 'hex'), size);
    t.same(r.events, [['message', 'Hello', false]], `masked Hello, chunk ${size}`);
    // Unmasked (server -> client).
    r = new Recorder({ role: 'client' });
    r.feed(Buffer.from('810548656c6c6f', 'hex'), size);
    t.same(r.events, [['message', 'Hello', false]], `unmasked Hello, chunk ${size}`);
    // Fragmented unmasked text.
    r = new Recorder({ role: 'client' });
    r.feed(Buffer.from('010348656c80026c6f', 'hex'), size);
    t.same(r.events, [['message', 'Hello', false]], `fragmented Hello, chunk ${size}`);
    // Unmasked ping: the client answers with a masked pong carrying "Hello".
    r = new Recorder({ role: 'client' });
    r.feed(Buffer.from('890548656c6c6f', 'hex'), size);
    t.same(r.events, [['ping', Buffer.from('Hello').toString('hex')]]);
    const pong = parseFrames(r.output());
    t.equal(pong.length, 1);
    t.match(pong[0], { fin: true, opcode: PONG, masked: true });
    t.equal(pong[0].payload.toString(), 'Hello');
    // Masked pong in (server role).
    r = new Recorder({ role: 'server' });
    r.feed(Buffer.from('8a8537fa213d7f9f4d5158', 'hex'), size);
    t.same(r.events, [['pong', Buffer.from('Hello').toString('hex')]]);
    t.equal(r.output().length, 0, 'nothing written for a pong');
    // 256 bytes binary in one unmasked frame (16-bit length) and 64 KiB (64-bit length).
    r = new Recorder({ role: 'client' });
    const b256 = Buffer.alloc(256, 0xab);
    r.feed(Buffer.concat([Buffer.from('827e0100', 'hex'), b256]), size);
    t.same(r.messages, [b256]);
    if (size === 0 || size >= 7) {
      r = new Recorder({ role: 'client' });
      const b64k = Buffer.alloc(65536, 0xcd);
      r.feed(Buffer.concat([Buffer.from('827f0000000000010000', 'hex'), b64k]), size);
      t.same(r.messages, [b64k], `64 KiB, chunk ${size}`);
    }
  }
});

t.test('length forms, masking phases and sizes round-trip', async (t) => {
  const sizes = [0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 63, 64, 65, 125, 126, 127, 1000, 65535, 65536, 70001];
  for (const n of sizes) {
    const payload = Buffer.alloc(n);
    for (let i = 0; i < n; i++) payload[i] = (i * 7 + 3) & 0xff;
    const bytes = cframe({ opcode: BIN, payload });
    for (const size of n > 1000 ? [0, 4093] : CHUNKINGS) {
      const r = new Recorder({ role: 'server' });
      r.feed(bytes, size);
      t.equal(r.messages.length, 1);
      t.ok(r.messages[0].equals(payload), `size ${n} chunk ${size}`);
    }
  }
  // Non-minimal length encodings are accepted (RFC says senders MUST use the
  // minimal form; rejecting buys nothing and Autobahn does not test it).
  for (const lenBits of [16, 64] as const) {
    const r = new Recorder({ role: 'server' });
    r.feed(cframe({ opcode: TEXT, payload: 'abc', lenBits }));
    t.same(r.events, [['message', 'abc', false]]);
  }
});

t.test('zero copy: a message in one chunk is a slice of that chunk', async (t) => {
  const chunk = Buffer.concat([sframe({ opcode: BIN, payload: Buffer.from('0102030405', 'hex') }), sframe({ opcode: TEXT, payload: 'xyz' })]);
  const kept: Buffer[] = [];
  const conn = new Connection(
    { write() {}, onMessage: (d: Buffer) => { kept.push(d); }, onPing() {}, onPong() {}, onCloseFrame() {}, onCloseWritten() {}, onFail() {}, setReading() {} },
    { role: 'client' },
  );
  conn.receive(chunk);
  t.equal(kept.length, 2);
  t.equal(kept[0].buffer, chunk.buffer, 'same memory');
  t.equal(kept[0].byteOffset, chunk.byteOffset + 2);
  t.equal(kept[1].byteOffset, chunk.byteOffset + 9);
  // Masked payloads are unmasked in place in the received chunk.
  const masked = cframe({ opcode: BIN, payload: Buffer.alloc(40, 0x11) });
  const got: Buffer[] = [];
  const server = new Connection(
    { write() {}, onMessage: (d: Buffer) => { got.push(d); }, onPing() {}, onPong() {}, onCloseFrame() {}, onCloseWritten() {}, onFail() {}, setReading() {} },
    { role: 'server' },
  );
  server.receive(masked);
  t.equal(got[0].buffer, masked.buffer);
  t.ok(masked.subarray(6).equals(Buffer.alloc(40, 0x11)), 'unmasked in place');
});

t.test('empty messages and empty fragments', async (t) => {
  for (const size of CHUNKINGS) {
    const r = new Recorder({ role: 'server' });
    r.feed(Buffer.concat([
      cframe({ opcode: TEXT }),
      cframe({ opcode: BIN }),
      cframe({ opcode: TEXT, fin: false }),
      cframe({ opcode: CONT, fin: false }),
      cframe({ opcode: CONT, payload: 'a' }),
      cframe({ opcode: BIN, fin: false, payload: 'x' }),
      cframe({ opcode: CONT }),
    ]), size);
    t.same(r.events, [['message', '', false], ['message', '', true], ['message', 'a', false], ['message', '78', true]]);
  }
});

t.test('control frames interleaved in a fragmented message', async (t) => {
  for (const size of CHUNKINGS) {
    const r = new Recorder({ role: 'server' });
    r.feed(Buffer.concat([
      cframe({ opcode: TEXT, fin: false, payload: 'fragment1 ' }),
      cframe({ opcode: PING, payload: 'p1' }),
      cframe({ opcode: CONT, fin: false, payload: 'fragment2 ' }),
      cframe({ opcode: PONG, payload: 'q' }),
      cframe({ opcode: PING }),
      cframe({ opcode: CONT, payload: 'fragment3' }),
    ]), size);
    t.same(r.events, [
      ['ping', Buffer.from('p1').toString('hex')],
      ['pong', Buffer.from('q').toString('hex')],
      ['ping', ''],
      ['message', 'fragment1 fragment2 fragment3', false],
    ], `chunk ${size}`);
    t.equal(r.output().toString('hex'), '8a02' + Buffer.from('p1').toString('hex') + '8a00', 'pongs echo the payload');
  }
});

t.test('many fragments (Autobahn 9.3.1 shape, small) and coalescing', async (t) => {
  const parts: Buffer[] = [];
  const expect: Buffer[] = [];
  for (let i = 0; i < 3000; i++) {
    const p = Buffer.alloc(i % 700, i & 0xff);
    expect.push(p);
    parts.push(cframe({ opcode: i === 0 ? BIN : CONT, fin: i === 2999, payload: p }));
  }
  for (const size of [0, 1000, 65536]) {
    const r = new Recorder({ role: 'server' });
    r.feed(Buffer.concat(parts), size);
    t.equal(r.messages.length, 1);
    t.ok(r.messages[0].equals(Buffer.concat(expect)), `chunk ${size}`);
  }
});

interface FailCase {
  name: string;
  role?: 'server' | 'client';
  bytes: Buffer;
  code: number;
  opts?: { maxPayload?: number; maxFragments?: number };
  /** Events expected before the failure. */
  before?: unknown[];
}

const C = (s: FrameSpec) => cframe(s);
const good = C({ opcode: TEXT, payload: 'ok' });

const failCases: FailCase[] = [
  { name: 'RSV1 without extension', bytes: C({ opcode: TEXT, rsv1: true, payload: 'a' }), code: 1002 },
  { name: 'RSV2', bytes: C({ opcode: TEXT, rsv2: true, payload: 'a' }), code: 1002 },
  { name: 'RSV3', bytes: C({ opcode: BIN, rsv3: true }), code: 1002 },
  { name: 'RSV on ping', bytes: C({ opcode: PING, rsv1: true }), code: 1002 },
  ...[3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf].map((op) => ({ name: `opcode ${op}`, bytes: C({ opcode: op }), code: 1002 })),
  { name: 'fragmented ping', bytes: C({ opcode: PING, fin: false }), code: 1002 },
  { name: 'fragmented close', bytes: C({ opcode: CLOSE, fin: false }), code: 1002 },
  { name: 'ping 126 bytes', bytes: C({ opcode: PING, payload: Buffer.alloc(126) }), code: 1002 },
  { name: 'close 126 bytes', bytes: C({ opcode: CLOSE, payload: Buffer.alloc(126, 0x41) }), code: 1002 },
  { name: 'continuation without message', bytes: C({ opcode: CONT, payload: 'a' }), code: 1002 },
  { name: 'final continuation without message', bytes: C({ opcode: CONT, fin: true }), code: 1002 },
  {
    name: 'text inside fragmented message',
    bytes: Buffer.concat([C({ opcode: TEXT, fin: false, payload: 'a' }), C({ opcode: TEXT, payload: 'b' })]),
    code: 1002,
  },
  {
    name: 'binary inside fragmented message',
    bytes: Buffer.concat([C({ opcode: BIN, fin: false, payload: 'a' }), C({ opcode: BIN, fin: false })]),
    code: 1002,
  },
  {
    name: 'continuation after a complete message',
    bytes: Buffer.concat([good, C({ opcode: CONT, payload: 'x' })]),
    code: 1002,
    before: [['message', 'ok', false]],
  },
  { name: 'unmasked frame to a server', bytes: frame({ opcode: TEXT, payload: 'a', mask: false }), code: 1002 },
  { name: 'masked frame to a client', role: 'client', bytes: C({ opcode: TEXT, payload: 'a' }), code: 1002 },
  { name: '64-bit length with MSB set', bytes: C({ opcode: BIN, lenBits: 64, declaredLength: 0x8000000000000000n }), code: 1002 },
  { name: '64-bit length 2^40', bytes: C({ opcode: BIN, lenBits: 64, declaredLength: 2n ** 40n }), code: 1009 },
  { name: '64-bit length 2^53', bytes: C({ opcode: BIN, lenBits: 64, declaredLength: 2n ** 53n }), code: 1009 },
  { name: 'close payload 1 byte', bytes: C({ opcode: CLOSE, payload: Buffer.from([3]) }), code: 1002 },
  ...[0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535].map((code) => ({
    name: `close code ${code}`,
    bytes: C({ opcode: CLOSE, payload: Buffer.from([code >> 8, code & 0xff]) }),
    code: 1002,
  })),
  {
    name: 'close reason invalid UTF-8',
    bytes: C({ opcode: CLOSE, payload: Buffer.from('03e8cebae1bdb9cf83cebcceb5eda080656469746564', 'hex') }),
    code: 1007,
  },
  { name: 'invalid UTF-8 text', bytes: C({ opcode: TEXT, payload: Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex') }), code: 1007 },
  { name: 'text ends mid-sequence', bytes: C({ opcode: TEXT, payload: Buffer.from('41e282', 'hex') }), code: 1007 },
  {
    name: 'fragmented text ends mid-sequence',
    bytes: Buffer.concat([C({ opcode: TEXT, fin: false, payload: Buffer.from('41e2', 'hex') }), C({ opcode: CONT, payload: Buffer.from('82', 'hex') })]),
    code: 1007,
  },
  { name: 'over maxPayload', bytes: C({ opcode: BIN, payload: Buffer.alloc(11) }), code: 1009, opts: { maxPayload: 10 } },
  {
    name: 'over maxPayload across fragments',
    bytes: Buffer.concat([C({ opcode: TEXT, fin: false, payload: 'abcdef' }), C({ opcode: CONT, payload: 'ghijk' })]),
    code: 1009,
    opts: { maxPayload: 10 },
  },
  {
    name: 'over maxFragments',
    bytes: Buffer.concat([C({ opcode: TEXT, fin: false }), C({ opcode: CONT, fin: false }), C({ opcode: CONT, fin: false }), C({ opcode: CONT })]),
    code: 1009,
    opts: { maxFragments: 3 },
  },
];

t.test('failures: close code, close frame written, input stops', async (t) => {
  for (const c of failCases) {
    for (const size of CHUNKINGS) {
      const role = c.role ?? 'server';
      const r = new Recorder({ role, ...c.opts });
      // A valid frame after the bad one must never be delivered.
      const trailer = role === 'server' ? good : sframe({ opcode: TEXT, payload: 'ok' });
      r.feed(Buffer.concat([c.bytes, trailer]), size);
      t.same(r.events, [...(c.before ?? []), ['fail', c.code]], `${c.name}, chunk ${size}`);
      const out = parseFrames(r.output());
      t.equal(out.length, 1, `${c.name}: one frame written`);
      t.equal(out[0].opcode, CLOSE);
      t.equal(out[0].masked, role === 'client');
      t.equal(out[0].payload.readUInt16BE(0), c.code, `${c.name}: close code on the wire`);
      t.equal(r.conn.closeWritten, true);
      t.equal(r.conn.closeSent, true);
      r.feed(trailer);
      t.equal(r.events.length, (c.before?.length ?? 0) + 1, 'input ignored after failure');
    }
  }
});

t.test('limits are checked on the header, before any payload', async (t) => {
  // Only the header of a too-big frame arrives: the failure must not wait for the payload.
  const r = new Recorder({ role: 'server', maxPayload: 1000 });
  const f = C({ opcode: BIN, payload: Buffer.alloc(1001) });
  r.feed(f.subarray(0, 8));
  t.same(r.events, [['fail', 1009]]);
  const r2 = new Recorder({ role: 'server', maxPayload: 1000 });
  r2.feed(C({ opcode: BIN, fin: false, payload: Buffer.alloc(600) }));
  r2.feed(C({ opcode: CONT, payload: Buffer.alloc(401) }).subarray(0, 8));
  t.same(r2.events, [['fail', 1009]]);
  // Exactly maxPayload is fine.
  const r3 = new Recorder({ role: 'server', maxPayload: 1000 });
  r3.feed(Buffer.concat([C({ opcode: BIN, fin: false, payload: Buffer.alloc(600) }), C({ opcode: CONT, payload: Buffer.alloc(400) })]));
  t.equal(r3.messages[0].length, 1000);
  // Exactly maxFragments is fine.
  const r4 = new Recorder({ role: 'server', maxFragments: 3 });
  r4.feed(Buffer.concat([C({ opcode: TEXT, fin: false }), C({ opcode: CONT, fin: false }), C({ opcode: CONT, payload: 'z' })]));
  t.same(r4.events, [['message', 'z', false]]);
  // The first two bytes decide some errors even when the rest of the header is missing.
  const r5 = new Recorder({ role: 'server' });
  r5.feed(Buffer.from([0x83]));
  t.same(r5.events, []);
  r5.feed(Buffer.from([0xfe]));
  t.same(r5.events, [['fail', 1002]]);
});

t.test('UTF-8 fails fast: within a frame and across fragments', async (t) => {
  // A 1000-byte text frame whose first bytes are already invalid: only 30 bytes arrive.
  const payload = Buffer.concat([Buffer.from('hello '), Buffer.from([0xc0, 0xaf]), Buffer.alloc(992, 0x61)]);
  const f = C({ opcode: TEXT, payload });
  for (const cut of [13, 14, 15, 30]) {
    const r = new Recorder({ role: 'server' });
    r.feed(f.subarray(0, cut));
    // 8 header bytes + "hello " = 14: the 0xc0 byte is at offset 14.
    t.same(r.events, cut > 14 ? [['fail', 1007]] : [], `cut at ${cut}`);
  }
  // Across fragments: the first fragment ends in a sequence that can never be valid (ED A0 = surrogate).
  const r = new Recorder({ role: 'server' });
  r.feed(C({ opcode: TEXT, fin: false, payload: Buffer.from('61eda0', 'hex') }));
  t.same(r.events, [['fail', 1007]], 'fails before the next fragment arrives');
  // A valid sequence split across fragments and chunks is fine.
  for (const size of CHUNKINGS) {
    const r2 = new Recorder({ role: 'server' });
    const euro = Buffer.from('€𝄞', 'utf8'); // e2 82 ac f0 9d 84 9e
    r2.feed(Buffer.concat([
      C({ opcode: TEXT, fin: false, payload: euro.subarray(0, 1) }),
      C({ opcode: CONT, fin: false, payload: euro.subarray(1, 4) }),
      C({ opcode: PING }),
      C({ opcode: CONT, fin: false, payload: euro.subarray(4, 6) }),
      C({ opcode: CONT, payload: euro.subarray(6) }),
    ]), size);
    t.same(r2.events, [['ping', ''], ['message', '€𝄞', false]], `split sequence, chunk ${size}`);
  }
  // Binary messages are not validated.
  const r3 = new Recorder({ role: 'server' });
  r3.feed(C({ opcode: BIN, payload: Buffer.from('ff', 'hex') }));
  t.same(r3.events, [['message', 'ff', true]]);
});

t.test('a valid close: echoed, reported, later input ignored', async (t) => {
  for (const size of CHUNKINGS) {
    const r = new Recorder({ role: 'server' });
    r.feed(Buffer.concat([C({ opcode: CLOSE, payload: Buffer.concat([Buffer.from([0x0f, 0xa0]), Buffer.from('bye ✓')]) }), good]), size);
    t.same(r.events, [['close', 4000, 'bye ✓']]);
    t.equal(r.output().toString('hex'), '88020fa0', 'echo of the code only');
    t.equal(r.conn.closeReceived, true);
    t.equal(r.conn.closeSent, true);
  }
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) {
    const r = new Recorder({ role: 'client' });
    r.feed(sframe({ opcode: CLOSE, payload: Buffer.from([code >> 8, code & 0xff]) }));
    t.same(r.events, [['close', code, '']]);
    const out = parseFrames(r.output());
    t.equal(out.length, 1);
    t.equal(out[0].masked, true);
    t.equal(out[0].payload.readUInt16BE(0), code, `echo ${code}`);
  }
  const r = new Recorder({ role: 'server' });
  r.feed(C({ opcode: CLOSE }));
  t.same(r.events, [['close', 1005, '']]);
  t.equal(r.output().toString('hex'), '8800', 'empty close echoed as empty close');
});

t.test('UTF-8 fails at the exact byte, fed one byte at a time (Autobahn 6.x strict)', async (t) => {
  const vectors = [
    'cebae1bdb9cf83cebcceb5eda080656469746564', // 6.3.1: surrogate in the middle
    'f4908080', 'f5', 'c0af', 'e080af', 'f08f8080', 'edbfbf', '80', 'fe', 'ff',
    '41424344c3', // valid so far: fails only at the end of the message
    'e282ac61e2', 'f09d849e61f09d84',
  ];
  for (const hex of vectors) {
    const payload = Buffer.from(hex, 'hex');
    let firstBad = -1;
    for (let k = 1; k <= payload.length; k++) {
      if (!canComplete(payload.subarray(0, k))) {
        firstBad = k - 1;
        break;
      }
    }
    for (const fragmented of [false, true]) {
      // Fragmented: one fragment per byte (plus an empty final one).
      const bytes = fragmented
        ? Buffer.concat([
          ...[...payload].map((b, i) => cframe({ opcode: i === 0 ? TEXT : CONT, fin: false, payload: Buffer.from([b]) })),
          cframe({ opcode: CONT }),
        ])
        : cframe({ opcode: TEXT, payload });
      const r = new Recorder({ role: 'server' });
      let failedAt = -1;
      for (let i = 0; i < bytes.length && failedAt < 0; i++) {
        r.feed(bytes.subarray(i, i + 1));
        if (r.events.length > 0) failedAt = i;
      }
      t.same(r.events, [['fail', 1007]], `${hex} fragmented=${fragmented}`);
      // Where the failing payload byte sits in the byte stream.
      const frameLen = 6; // masked header with a 7-bit length, per fragment
      const expected = firstBad < 0
        ? bytes.length - 1
        : fragmented ? firstBad * (frameLen + 1) + frameLen : frameLen + firstBad;
      t.equal(failedAt, expected, `${hex} fragmented=${fragmented}: fails at stream byte ${expected}`);
    }
  }
});
