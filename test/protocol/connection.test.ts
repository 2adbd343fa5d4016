// Send path, close handshake, backpressure and async-transform ordering of Connection.
import t from 'tap';
import { InvalidArgumentError, InvalidStateError, ProtocolError } from '../../lib/errors.js';
import { Connection } from '../../lib/protocol/connection.js';
import { resolveOptions } from '../../lib/options.js';
import type { MessageTransform } from '../../lib/protocol/extension.js';
import { cframe, parseFrames, sframe } from '../helpers/frames.js';
import { Recorder } from './fixtures/recorder.js';

const TEXT = 0x1, BIN = 0x2, CONT = 0x0, CLOSE = 0x8, PING = 0x9, PONG = 0xa;
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
async function settle(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await tick();
}

t.test('server sends: all length forms, byte exact', async (t) => {
  const r = new Recorder({ role: 'server' });
  r.conn.send(Buffer.from('Hello'), false);
  t.equal(r.output().toString('hex'), '810548656c6c6f');
  const cases: Array<[number, string]> = [
    [0, '8200'], [125, '827d'], [126, '827e007e'], [65535, '827effff'], [65536, '827f0000000000010000'], [70000, '827f0000000000011170'],
  ];
  for (const [n, head] of cases) {
    const r2 = new Recorder({ role: 'server' });
    const payload = Buffer.alloc(n, 0x5c);
    r2.conn.send(payload, true);
    t.equal(r2.output().subarray(0, head.length / 2).toString('hex'), head, `header for ${n}`);
    t.ok(r2.output().subarray(head.length / 2).equals(payload), `payload for ${n}`);
  }
});

t.test('server frames: small coalesced, large payload passed through uncopied', async (t) => {
  const chunks: Buffer[][] = [];
  const conn = new Connection(
    { write: (c: Buffer[]) => { chunks.push(c); }, onMessage() {}, onPing() {}, onPong() {}, onCloseFrame() {}, onCloseWritten() {}, onFail() {}, setReading() {} },
    { role: 'server' },
  );
  const small = Buffer.alloc(100, 1);
  const large = Buffer.alloc(100000, 2);
  conn.send(small, true);
  conn.send(large, true);
  t.equal(chunks[0].length, 1, 'small: one chunk');
  t.equal(chunks[1].length, 2, 'large: header + payload');
  t.equal(chunks[1][1], large, 'the payload chunk is the caller buffer itself');
  t.equal(chunks[1][0].toString('hex'), '827f00000000000186a0');
});

t.test('client sends: masked with fresh keys, payload intact, caller buffer untouched', async (t) => {
  const r = new Recorder({ role: 'client' });
  const keys = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const payload = Buffer.from(`message ${i} `.repeat(i % 20));
    const copy = Buffer.from(payload);
    r.written = [];
    r.conn.send(payload, false);
    t.ok(payload.equals(copy), 'caller buffer not masked in place');
    const f = parseFrames(r.output());
    t.equal(f.length, 1);
    t.equal(f[0].masked, true);
    t.equal(f[0].opcode, TEXT);
    t.ok(f[0].payload.equals(payload));
    keys.add(f[0].key!.toString('hex'));
  }
  // 300 random 32-bit keys: a collision is astronomically unlikely; a fixed key gives 1.
  t.ok(keys.size >= 299, `distinct keys: ${keys.size}`);
  // The client's frames parse on a server Connection.
  const s = new Recorder({ role: 'server' });
  const c = new Recorder({ role: 'client' });
  c.conn.send(Buffer.alloc(70000, 7), true);
  c.conn.ping(Buffer.from('hi'));
  s.feed(c.output(), 1000);
  t.equal(s.messages[0].length, 70000);
  t.same(s.events[1], ['ping', '6869']);
});

t.test('streamed send: fin=false then continuations; controls may interleave', async (t) => {
  for (const role of ['server', 'client'] as const) {
    const r = new Recorder({ role });
    r.conn.send(Buffer.from('a'), false, { fin: false });
    r.conn.ping();
    r.conn.send(Buffer.from('b'), false, { fin: false });
    r.conn.send(Buffer.from('c'), false);
    r.conn.send(Buffer.from('d'), true, { fin: false });
    r.conn.send(Buffer.from('e'), true, { fin: true });
    const f = parseFrames(r.output());
    t.same(f.map((x) => [x.opcode, x.fin, x.payload.toString()]), [
      [TEXT, false, 'a'], [PING, true, ''], [CONT, false, 'b'], [CONT, true, 'c'], [BIN, false, 'd'], [CONT, true, 'e'],
    ]);
    t.ok(f.every((x) => x.masked === (role === 'client')));
  }
  const r = new Recorder({ role: 'server' });
  r.conn.send(Buffer.from('x'), false, { fin: false });
  t.equal(r.output().toString('hex'), '010178', 'first fragment: opcode text, FIN clear');
});

t.test('close(): byte exact, once, argument validation', async (t) => {
  let r = new Recorder({ role: 'server' });
  r.conn.close(1000, 'bye');
  t.equal(r.output().toString('hex'), '880503e8627965');
  r.conn.close(1001);
  t.equal(r.output().toString('hex'), '880503e8627965', 'second close is a no-op');
  t.equal(r.conn.closeSent, true);
  r = new Recorder({ role: 'server' });
  r.conn.close();
  t.equal(r.output().toString('hex'), '8800');
  r = new Recorder({ role: 'server' });
  r.conn.close(4999, 'x'.repeat(123));
  t.equal(r.output().length, 2 + 125);
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 1000.5, NaN]) {
    const r2 = new Recorder({ role: 'server' });
    t.throws(() => r2.conn.close(code), InvalidArgumentError, `code ${code}`);
    t.equal(r2.output().length, 0);
    t.equal(r2.conn.closeSent, false);
  }
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]) {
    const r2 = new Recorder({ role: 'server' });
    r2.conn.close(code);
    t.equal(r2.output().readUInt16BE(2), code);
  }
  const r3 = new Recorder({ role: 'server' });
  t.throws(() => r3.conn.close(1000, 'x'.repeat(124)), InvalidArgumentError);
  t.throws(() => r3.conn.close(1000, 'é'.repeat(62)), InvalidArgumentError, '124 bytes of UTF-8');
  t.throws(() => r3.conn.close(undefined, 'reason'), InvalidArgumentError);
  t.throws(() => r3.conn.ping(Buffer.alloc(126)), InvalidArgumentError);
  t.throws(() => r3.conn.pong(Buffer.alloc(126)), InvalidArgumentError);
  r3.conn.ping(Buffer.alloc(125));
  t.equal(r3.output().length, 127);
});

t.test('after our close: no data frames, but receiving continues (half-close)', async (t) => {
  const r = new Recorder({ role: 'server' });
  r.conn.close(1000);
  t.throws(() => r.conn.send(Buffer.from('x'), false), InvalidStateError);
  let cbErr: Error | undefined;
  r.conn.send(Buffer.from('x'), false, undefined, (err) => {
    cbErr = err;
  });
  t.type(cbErr, InvalidStateError);
  t.equal((cbErr as InvalidStateError).code, 'ERR_WS_INVALID_STATE');
  r.conn.ping();
  r.conn.pong();
  t.equal(r.output().toString('hex'), '880203e8', 'only our close was written');
  // The peer still sends data, and a ping (not answered: nothing may follow our close).
  r.feed(Buffer.concat([cframe({ opcode: TEXT, payload: 'late' }), cframe({ opcode: PING, payload: 'p' }), cframe({ opcode: BIN, payload: 'z' })]), 3);
  t.same(r.events, [['message', 'late', false], ['ping', '70'], ['message', '7a', true]]);
  r.feed(cframe({ opcode: CLOSE, payload: Buffer.from([0x03, 0xe8]) }));
  t.same(r.events.at(-1), ['close', 1000, '']);
  t.equal(r.output().toString('hex'), '880203e8', 'no second close frame');
  t.equal(r.conn.closeReceived, true);
  r.feed(cframe({ opcode: TEXT, payload: 'ignored' }));
  t.equal(r.events.length, 4);
});

t.test('after the peer close: send fails, echo already written', async (t) => {
  const r = new Recorder({ role: 'client' });
  r.feed(sframe({ opcode: CLOSE, payload: Buffer.from('03e9676f6e65', 'hex') }));
  t.same(r.events, [['close', 1001, 'gone']]);
  t.throws(() => r.conn.send(Buffer.from('x'), true), InvalidStateError);
  r.conn.close(1000);
  t.equal(parseFrames(r.output()).length, 1);
});

t.test('pause/resume/bufferedAmount', async (t) => {
  const frames = [cframe({ opcode: TEXT, payload: 'one' }), cframe({ opcode: TEXT, payload: 'two' }), cframe({ opcode: TEXT, payload: 'three' })];
  const all = Buffer.concat(frames);
  const r = new Recorder({ role: 'server' });
  r.onEvent = () => r.conn.pause();
  r.feed(all);
  t.same(r.events, [['message', 'one', false]], 'paused inside the handler: nothing more delivered');
  t.equal(r.conn.paused, true);
  t.equal(r.conn.bufferedAmount, frames[1].length + frames[2].length);
  r.onEvent = null;
  r.feed(Buffer.from(cframe({ opcode: TEXT, payload: 'four' })));
  t.equal(r.events.length, 1, 'receive() while paused only queues');
  t.equal(r.conn.bufferedAmount, frames[1].length + frames[2].length + 10);
  r.conn.resume();
  t.same(r.events.map((e) => e[1]), ['one', 'two', 'three', 'four'], 'resume delivers synchronously');
  t.equal(r.conn.paused, false);
  t.equal(r.conn.bufferedAmount, 0);
  // Pause before any input; a partial frame counts in bufferedAmount until parsed.
  const r2 = new Recorder({ role: 'server' });
  r2.conn.pause();
  r2.feed(all, 4);
  t.equal(r2.conn.bufferedAmount, all.length);
  t.same(r2.events, []);
  r2.conn.resume();
  t.equal(r2.events.length, 3);
  // pause + resume inside a handler keeps going.
  const r3 = new Recorder({ role: 'server' });
  r3.onEvent = () => {
    r3.conn.pause();
    r3.conn.resume();
  };
  r3.feed(all);
  t.equal(r3.events.length, 3);
});

/** A fake async transform: "compression" XORs with 0x5a; callbacks on setImmediate. */
class XorTransform implements MessageTransform {
  calls: string[] = [];
  disposed = false;
  failOn: number | null = null;
  private pending: Buffer[] = [];
  compress(data: Buffer, fin: boolean, cb: (err: Error | null, out?: Buffer) => void): void {
    this.calls.push(`c:${data.toString()}:${fin}`);
    const out = Buffer.from(data.map((b) => b ^ 0x5a));
    setImmediate(() => (data.toString() === 'FAIL' ? cb(new Error('zlib broke')) : cb(null, out)));
  }
  decompress(data: Buffer, fin: boolean, cb: (err: Error | null, out?: Buffer) => void): void {
    const plain = Buffer.from(data.map((b) => b ^ 0x5a));
    this.calls.push(`d:${plain.toString()}:${fin}`);
    this.pending.push(plain);
    setImmediate(() => {
      if (this.failOn !== null && plain.includes(this.failOn)) return cb(new ProtocolError(1009, 'inflated too big'));
      if (!fin) return cb(null);
      const msg = Buffer.concat(this.pending);
      this.pending = [];
      cb(null, msg);
    });
  }
  dispose(): void {
    this.disposed = true;
  }
}
const xor = (s: string | Buffer) => Buffer.from(Buffer.from(s).map((b) => b ^ 0x5a));

t.test('transform: incoming order is preserved while inflating', async (t) => {
  for (const size of [0, 1, 5]) {
    const tr = new XorTransform();
    const r = new Recorder({ role: 'server', transform: tr });
    r.feed(Buffer.concat([
      cframe({ opcode: TEXT, rsv1: true, fin: false, payload: xor('com') }),
      cframe({ opcode: PING, payload: 'p' }),
      cframe({ opcode: CONT, payload: xor('pressed') }),
      cframe({ opcode: TEXT, payload: 'plain' }),
      cframe({ opcode: PING, payload: 'q' }),
      cframe({ opcode: BIN, rsv1: true, payload: xor('zz') }),
      cframe({ opcode: TEXT, payload: 'last' }),
    ]), size);
    await settle();
    t.same(r.events, [
      ['ping', '70'], ['message', 'compressed', false], ['message', 'plain', false], ['ping', '71'], ['message', '7a7a', true], ['message', 'last', false],
    ], `chunk ${size}`);
    // Small non-final compressed fragments are gathered and inflated with the rest of the message.
    t.same(tr.calls, ['d:compressed:true', 'd:zz:true']);
  }
});

t.test('transform: RSV1 rules and inflate failures', async (t) => {
  let r = new Recorder({ role: 'server', transform: new XorTransform() });
  r.feed(Buffer.concat([cframe({ opcode: TEXT, fin: false, payload: 'a' }), cframe({ opcode: CONT, rsv1: true, payload: 'b' })]));
  t.same(r.events, [['fail', 1002]], 'RSV1 on a continuation');
  r = new Recorder({ role: 'server', transform: new XorTransform() });
  r.feed(cframe({ opcode: PING, rsv1: true }));
  t.same(r.events, [['fail', 1002]], 'RSV1 on a control frame');
  const tr = new XorTransform();
  tr.failOn = 0x21;
  r = new Recorder({ role: 'server', transform: tr });
  r.feed(Buffer.concat([cframe({ opcode: TEXT, rsv1: true, payload: xor('boom!') }), cframe({ opcode: TEXT, payload: 'never' })]));
  await settle();
  t.same(r.events, [['fail', 1009]]);
  t.equal(r.output().toString('hex'), '880203f1');
  t.equal(tr.disposed, true, 'transform released on failure');
  r = new Recorder({ role: 'server', transform: new XorTransform() });
  r.feed(cframe({ opcode: TEXT, rsv1: true, payload: xor(Buffer.from('c328', 'hex')) }));
  await settle();
  t.same(r.events, [['fail', 1007]], 'invalid UTF-8 after inflating');
  // Uncompressed text is still validated incrementally when a transform exists.
  r = new Recorder({ role: 'server', transform: new XorTransform() });
  r.feed(cframe({ opcode: TEXT, payload: Buffer.from('ff', 'hex') }));
  t.same(r.events, [['fail', 1007]]);
});

t.test('transform: everything sent after a compressed send goes out after it', async (t) => {
  const tr = new XorTransform();
  const r = new Recorder({ role: 'server', transform: tr });
  const done: string[] = [];
  r.conn.send(Buffer.from('first'), false, undefined, () => done.push('first'));
  r.conn.send(Buffer.from('raw'), true, { compress: false }, () => done.push('raw'));
  r.conn.ping(Buffer.from('p'));
  r.conn.send(Buffer.from('str'), false, { fin: false }, () => done.push('str'));
  r.conn.send(Buffer.from('eam'), false, undefined, () => done.push('eam'));
  r.conn.close(1000);
  t.equal(r.output().length, 0, 'nothing written while the first compression is pending');
  // Queued control frames count too (the 1-byte ping).
  t.equal(r.conn.pendingSendBytes, 5 + 3 + 1 + 3 + 3);
  // The automatic pong queues too.
  r.feed(cframe({ opcode: PING, payload: 'q' }));
  t.equal(r.output().length, 0);
  await settle();
  const f = parseFrames(r.output());
  t.same(f.map((x) => [x.opcode, x.rsv, x.fin, x.payload.toString('hex')]), [
    [TEXT, 4, true, xor('first').toString('hex')],
    [BIN, 0, true, Buffer.from('raw').toString('hex')],
    [PING, 0, true, '70'],
    [TEXT, 4, false, xor('str').toString('hex')],
    [CONT, 0, true, xor('eam').toString('hex')],
    [CLOSE, 0, true, '03e8'],
  ]);
  t.same(done, ['first', 'raw', 'str', 'eam']);
  t.equal(r.conn.pendingSendBytes, 0);
  t.same(tr.calls, ['c:first:true', 'c:str:false', 'c:eam:true']);
});

t.test('transform: a ping flood while a compression is pending queues one pong (the latest)', async (t) => {
  const r = new Recorder({ role: 'server', transform: new XorTransform() });
  r.conn.send(Buffer.from('slow'), false);
  const pings: Buffer[] = [];
  for (let i = 0; i < 1000; i++) pings.push(cframe({ opcode: PING, payload: `p${i}` }));
  r.feed(Buffer.concat(pings));
  t.equal(r.events.length, 1000, 'every ping is reported');
  await settle();
  const f = parseFrames(r.output());
  t.same(f.map((x) => [x.opcode, x.payload.toString()]), [[TEXT, xor('slow').toString()], [PONG, 'p999']]);
  // Once the queue is empty, pongs are written at once again, one per ping.
  r.feed(Buffer.concat([cframe({ opcode: PING, payload: 'a' }), cframe({ opcode: PING, payload: 'b' })]));
  t.same(parseFrames(r.output()).slice(2).map((x) => x.payload.toString()), ['a', 'b']);
});

t.test('transform: a failure while compressions are pending sends the close at once', async (t) => {
  const tr = new XorTransform();
  const r = new Recorder({ role: 'server', transform: tr });
  const errs: Array<Error | undefined> = [];
  r.conn.send(Buffer.from('pending'), false, undefined, (e) => errs.push(e));
  r.conn.send(Buffer.from('raw'), false, { compress: false }, (e) => errs.push(e));
  r.feed(cframe({ opcode: 0x3 }));
  t.same(r.events, [['fail', 1002]]);
  t.equal(r.output().toString('hex'), '880203ea');
  t.equal(errs.length, 2);
  t.ok(errs.every((e) => e instanceof ProtocolError));
  await settle();
  t.equal(r.output().toString('hex'), '880203ea', 'the late compression result is dropped');
});

t.test('transform: a compression error fails with 1011', async (t) => {
  const r = new Recorder({ role: 'client', transform: new XorTransform() });
  let err: Error | undefined;
  r.conn.send(Buffer.from('FAIL'), false, undefined, (e) => {
    err = e;
  });
  await settle();
  t.match(err, { message: 'zlib broke' });
  t.same(r.events, [['fail', 1011]]);
  const f = parseFrames(r.output());
  t.equal(f.length, 1);
  t.equal(f[0].payload.readUInt16BE(0), 1011);
});

t.test('destroy(): releases the transform, fails queued sends, ignores input', async (t) => {
  const tr = new XorTransform();
  const r = new Recorder({ role: 'server', transform: tr });
  let err: Error | undefined;
  r.conn.send(Buffer.from('x'), false, undefined, (e) => {
    err = e;
  });
  r.conn.destroy();
  r.conn.destroy();
  t.equal(tr.disposed, true);
  t.type(err, InvalidStateError);
  r.feed(cframe({ opcode: TEXT, payload: 'late' }));
  await settle();
  t.same(r.events, []);
  t.equal(r.output().length, 0);
  t.throws(() => r.conn.send(Buffer.from('y'), false), InvalidStateError);
});

t.test('constructor checks the role; limits are validated once, in lib/options.ts', async (t) => {
  t.throws(() => new Recorder({ role: 'peer' as 'server' }), InvalidArgumentError);
  t.throws(() => resolveOptions({ maxPayload: -1 }), InvalidArgumentError);
  t.throws(() => resolveOptions({ maxFragments: 0 }), InvalidArgumentError);
  const r = new Recorder({ role: 'server', maxPayload: Infinity, maxFragments: Infinity });
  r.feed(cframe({ opcode: BIN, payload: Buffer.alloc(3) }));
  t.equal(r.messages.length, 1);
});

t.test('handler order: the close frame is written before fail()/closeFrame() run', async (t) => {
  for (const [bytes, kind] of [
    [cframe({ opcode: 0x3 }), 'fail'],
    [cframe({ opcode: CLOSE, payload: Buffer.from('03e8', 'hex') }), 'close'],
  ] as const) {
    const r = new Recorder({ role: 'server' });
    let writtenAtEvent = -1;
    r.onEvent = (e) => {
      if (e[0] === kind) writtenAtEvent = r.written.length;
    };
    r.feed(bytes);
    t.equal(writtenAtEvent, 1, `${kind}: close already written`);
  }
});

t.test('transform: compressed frames are bounded before buffering', async (t) => {
  // maxPayload 1000: raw compressed frames may slightly exceed it (deflate overhead), not by much.
  const r = new Recorder({ role: 'server', maxPayload: 1000, transform: new XorTransform() });
  r.feed(cframe({ opcode: BIN, rsv1: true, payload: Buffer.alloc(5000) }).subarray(0, 8));
  t.same(r.events, [['fail', 1009]]);
  const r2 = new Recorder({ role: 'server', maxPayload: 1000, transform: new XorTransform() });
  r2.feed(cframe({ opcode: BIN, rsv1: true, payload: xor(Buffer.alloc(1010, 1)) }));
  await settle();
  t.equal(r2.events[0][0], 'message', 'a little over maxPayload raw is accepted (the transform limits the inflated size)');
});
