// Seeded fuzz of the receive path: valid frame streams (checked against the
// generator's expectations) and mutated ones (bit flips, truncations, random
// lengths, garbage, random chunking) must never throw out of Connection and
// must end either open or failed with a valid close code and a close frame.
// Replay: FUZZ_SEED=<seed> [FUZZ_ITERATIONS=n] tap ...fuzz.test.js
import { isUtf8 } from 'node:buffer';
import { randomInt } from 'node:crypto';
import t from 'tap';
import { ProtocolError } from '../../lib/errors.js';
import { Connection } from '../../lib/protocol/connection.js';
import type { MessageTransform } from '../../lib/protocol/extension.js';
import { frame, parseFrames, type FrameSpec } from '../helpers/frames.js';
import { canComplete } from './fixtures/utf8-reference.js';
import { prng } from '../helpers/prng.js';

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : randomInt(2 ** 31);
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 4000);
const FAIL_CODES = new Set([1002, 1007, 1009]);


/** Identity "compression" with an inflated-size limit, sync or async. */
class IdentityTransform implements MessageTransform {
  private parts: Buffer[] = [];
  private size = 0;
  constructor(private readonly maxPayload: number, private readonly async: boolean) {}
  compress(data: Buffer, _fin: boolean, cb: (err: Error | null, out?: Buffer) => void): void {
    cb(null, data);
  }
  decompress(data: Buffer, fin: boolean, cb: (err: Error | null, out?: Buffer) => void): void {
    const run = () => {
      this.size += data.length;
      if (this.size > this.maxPayload) return cb(new ProtocolError(1009, 'too big'));
      this.parts.push(Buffer.from(data));
      if (!fin) return cb(null);
      const out = Buffer.concat(this.parts);
      this.parts = [];
      this.size = 0;
      cb(null, out);
    };
    if (this.async) setImmediate(run);
    else run();
  }
  dispose(): void {}
}

interface Expected {
  kind: 'message' | 'ping' | 'pong' | 'close';
  data: string;
  binary?: boolean;
  code?: number;
}

function makeStream(rand: () => number, role: 'server' | 'client', compressed: boolean, maxPayload: number): { bytes: Buffer; expected: Expected[]; valid: boolean } {
  const int = (n: number) => Math.floor(rand() * n);
  const mask = role === 'server' ? Buffer.from([int(256), int(256), int(256), int(256)]) : false;
  const out: Buffer[] = [];
  const expected: Expected[] = [];
  let valid = true;
  const f = (s: FrameSpec) => out.push(frame({ ...s, mask }));
  const payload = (n: number, text: boolean) => {
    if (!text) {
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) b[i] = (rand() * 256) | 0;
      return b;
    }
    const chars = ['a', 'Z', ' ', 'é', '€', '𝄞', 'ж'];
    const parts: string[] = [];
    let bytes = 0;
    while (bytes < n) {
      const c = chars[int(chars.length)];
      parts.push(c);
      bytes += Buffer.byteLength(c);
    }
    return Buffer.from(parts.join(''));
  };
  const controls = () => {
    while (rand() < 0.15) {
      const p = payload(int(20), false);
      if (rand() < 0.5) {
        f({ opcode: 0x9, payload: p });
        expected.push({ kind: 'ping', data: p.toString('hex') });
      } else {
        f({ opcode: 0xa, payload: p });
        expected.push({ kind: 'pong', data: p.toString('hex') });
      }
    }
  };
  const messages = 1 + int(6);
  for (let m = 0; m < messages; m++) {
    controls();
    const text = rand() < 0.5;
    const big = rand() < 0.05;
    const size = big ? int(70000) : int(200);
    const data = payload(size, text);
    const pieces = rand() < 0.4 ? 1 + int(6) : 1;
    const rsv1 = compressed && rand() < 0.5;
    let pos = 0;
    for (let i = 0; i < pieces; i++) {
      const end = i === pieces - 1 ? data.length : Math.min(data.length, pos + int(data.length + 1));
      f({ opcode: i === 0 ? (text ? 1 : 2) : 0, fin: i === pieces - 1, rsv1: rsv1 && i === 0, payload: data.subarray(pos, end) });
      pos = end;
      if (i < pieces - 1) controls();
    }
    if (data.length > maxPayload) valid = false;
    expected.push({ kind: 'message', data: text ? data.toString() : data.toString('hex'), binary: !text });
  }
  controls();
  if (rand() < 0.3) {
    const code = [1000, 1001, 3000, 4999][int(4)];
    f({ opcode: 0x8, payload: Buffer.concat([Buffer.from([code >> 8, code & 0xff]), payload(int(20), true)]) });
    expected.push({ kind: 'close', data: '', code });
  }
  return { bytes: Buffer.concat(out), expected, valid };
}


// ---- A deliberately simple reference of the receive rules (whole input at
// once, no incremental tricks) used as an oracle for mutated streams. ----

const VALID_CLOSE = (c: number) => (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);

function reference(input: Buffer, role: 'server' | 'client', maxPayload: number, maxFragments: number): { events: Expected[]; fail: number | null } {
  const events: Expected[] = [];
  let i = 0;
  let open = false;
  let binary = false;
  let parts: Buffer[] = [];
  let msgLen = 0;
  let frags = 0;
  const fail = (code: number) => ({ events, fail: code });
  for (;;) {
    if (input.length - i < 2) return { events, fail: null };
    const b0 = input[i];
    const b1 = input[i + 1];
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const op = b0 & 0xf;
    const masked = (b1 & 0x80) !== 0;
    if (b0 & 0x30) return fail(1002);
    if (op >= 8) {
      if (op > 10 || !fin || rsv1 || (b1 & 0x7f) > 125) return fail(1002);
    } else if (op === 0) {
      if (!open || rsv1) return fail(1002);
    } else if (op <= 2) {
      if (open || rsv1) return fail(1002);
    } else return fail(1002);
    if (masked !== (role === 'server')) return fail(1002);
    const l7 = b1 & 0x7f;
    const hlen = 2 + (l7 === 126 ? 2 : l7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (input.length - i < hlen) return { events, fail: null };
    let len: number = l7;
    if (l7 === 126) len = input.readUInt16BE(i + 2);
    if (l7 === 127) {
      const big = input.readBigUInt64BE(i + 2);
      if (big >= 2n ** 63n) return fail(1002);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) return fail(1009);
      len = Number(big);
    }
    const key = masked ? input.subarray(i + hlen - 4, i + hlen) : null;
    i += hlen;
    const avail = Math.min(len, input.length - i);
    const payload = Buffer.from(input.subarray(i, i + avail));
    if (key) for (let k = 0; k < payload.length; k++) payload[k] ^= key[k & 3];
    if (op >= 8) {
      if (avail < len) return { events, fail: null };
      i += len;
      if (op === 9) events.push({ kind: 'ping', data: payload.toString('hex') });
      else if (op === 10) events.push({ kind: 'pong', data: payload.toString('hex') });
      else {
        if (len === 1) return fail(1002);
        const code = len === 0 ? 1005 : payload.readUInt16BE(0);
        if (len >= 2 && !VALID_CLOSE(code)) return fail(1002);
        if (len > 2 && !isUtf8(payload.subarray(2))) return fail(1007);
        events.push({ kind: 'close', data: '', code });
        return { events, fail: null };
      }
      continue;
    }
    if (op !== 0) {
      binary = op === 2;
      parts = [];
      msgLen = 0;
      frags = 0;
      open = !fin;
    }
    if (++frags > maxFragments) return fail(1009);
    if (len > maxPayload - msgLen) return fail(1009);
    msgLen += len;
    parts.push(payload);
    const data = Buffer.concat(parts);
    if (!binary && !canComplete(data)) return fail(1007);
    if (avail < len) return { events, fail: null };
    i += len;
    if (fin) {
      open = false;
      if (!binary && !isUtf8(data)) return fail(1007);
      events.push({ kind: 'message', data: binary ? data.toString('hex') : data.toString(), binary });
    }
  }
}

function mutate(rand: () => number, bytes: Buffer): Buffer {
  const int = (n: number) => Math.floor(rand() * n);
  let b = Buffer.from(bytes);
  const edits = 1 + int(4);
  for (let e = 0; e < edits; e++) {
    const op = int(6);
    if (op === 0 || op === 1) {
      // Bit flips, biased toward the start where headers are.
      const at = rand() < 0.5 ? int(Math.min(b.length, 16)) : int(b.length);
      if (b.length) b[at] ^= 1 << int(8);
    } else if (op === 2) {
      b = b.subarray(0, int(b.length + 1));
    } else if (op === 3) {
      const garbage = Buffer.from(Array.from({ length: 1 + int(16) }, () => int(256)));
      const at = int(b.length + 1);
      b = Buffer.concat([b.subarray(0, at), garbage, b.subarray(at)]);
    } else if (op === 4) {
      // A header with a random length form and value.
      const len = [int(126), 126 + int(70000), 2 ** 32 + int(1000), 2 ** 63 + int(1000)][int(4)];
      const h = frame({ opcode: [0, 1, 2, 8, 9, 10, int(16)][int(7)], fin: rand() < 0.5, declaredLength: BigInt(Math.floor(len)), payload: Buffer.alloc(0) });
      const at = int(b.length + 1);
      b = Buffer.concat([b.subarray(0, at), h, b.subarray(at)]);
    } else if (b.length > 1) {
      const at = int(b.length - 1);
      b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
    }
  }
  return b;
}

t.test(`protocol fuzz (seed ${SEED}, ${ITERATIONS} iterations)`, async (t) => {
  const rand = prng(SEED);
  const int = (n: number) => Math.floor(rand() * n);
  let problems = 0;
  let failedRuns = 0;
  let validChecked = 0;
  let oracleChecked = 0;
  const problem = (iter: number, msg: string) => {
    problems++;
    if (problems <= 5) t.fail(`seed ${SEED} iteration ${iter}: ${msg} (replay: FUZZ_SEED=${SEED})`);
  };
  for (let iter = 0; iter < ITERATIONS && problems < 5; iter++) {
    const role = rand() < 0.5 ? 'server' : 'client';
    const maxPayload = rand() < 0.2 ? int(300) : 100 * 1024 * 1024;
    const maxFragments = rand() < 0.1 ? 1 + int(4) : 1 << 20;
    const compressed = rand() < 0.2;
    const asyncTransform = compressed && rand() < 0.2;
    const { bytes, expected, valid } = makeStream(rand, role, compressed, maxPayload);
    const mutated = rand() < 0.7;
    const input = mutated ? mutate(rand, bytes) : bytes;

    const events: Expected[] = [];
    const written: Buffer[] = [];
    let failure: ProtocolError | null = null;
    let ended = false;
    const conn = new Connection(
      {
        write: (chunks) => {
          for (const c of chunks) written.push(Buffer.from(c));
        },
        onMessage: (data, isBinary) => {
          if (ended) problem(iter, 'message after the end');
          if (data.length > maxPayload) problem(iter, `message of ${data.length} > maxPayload ${maxPayload}`);
          if (!isBinary && !isUtf8(data)) problem(iter, 'invalid UTF-8 delivered');
          events.push({ kind: 'message', data: isBinary ? data.toString('hex') : data.toString(), binary: isBinary });
        },
        onPing: (p) => events.push({ kind: 'ping', data: p.toString('hex') }),
        onPong: (p) => events.push({ kind: 'pong', data: p.toString('hex') }),
        onCloseFrame: (code) => {
          if (ended) problem(iter, 'close after the end');
          ended = true;
          events.push({ kind: 'close', data: '', code });
        },
        onCloseWritten() {},
        setReading() {},
        onFail: (err) => {
          if (ended) problem(iter, 'fail after the end');
          ended = true;
          failure = err;
        },
      },
      {
        role, maxPayload, maxFragments,
        transform: compressed ? new IdentityTransform(maxPayload, asyncTransform) : null,
      },
    );
    try {
      let pos = 0;
      const oneByte = input.length < 3000 && rand() < 0.1;
      while (pos < input.length) {
        const n = oneByte ? 1 : 1 + int(rand() < 0.5 ? 16 : 5000);
        conn.receive(Buffer.from(input.subarray(pos, pos + n)));
        pos += n;
      }
      if (asyncTransform) for (let i = 0; i < 40; i++) await new Promise((r) => setImmediate(r));
    } catch (err) {
      problem(iter, `threw ${(err as Error).stack}`);
      continue;
    }
    const out = parseFrames(Buffer.concat(written));
    if (failure !== null) {
      failedRuns++;
      const err = failure as ProtocolError;
      if (!(err instanceof ProtocolError) || !FAIL_CODES.has(err.closeCode)) problem(iter, `bad failure ${String(err)}`);
      const last = out.at(-1);
      const closes = out.filter((x) => x.opcode === 0x8);
      if (!last || last.opcode !== 0x8 || closes.length !== 1) problem(iter, 'a failure must end the output with exactly one close frame');
      else if (last.payload.readUInt16BE(0) !== err.closeCode) problem(iter, 'close frame code differs from the failure');
      if (!conn.closeWritten || !conn.closeSent) problem(iter, 'state flags after failure');
    }
    if (out.some((x) => x.masked !== (role === 'client'))) problem(iter, 'wrong masking on output');
    if (!compressed) {
      oracleChecked++;
      const ref = reference(input, role, maxPayload, maxFragments);
      const got = failure === null ? null : (failure as ProtocolError).closeCode;
      if (ref.fail !== got) problem(iter, `close code ${String(got)}, reference says ${String(ref.fail)}; input ${input.subarray(0, 64).toString('hex')}`);
      else if (JSON.stringify(events) !== JSON.stringify(ref.events)) problem(iter, 'events differ from the reference');
    }
    if (!mutated && !(maxFragments < 7)) {
      // Unmutated streams: exact expected events (or a 1009 when a message exceeds maxPayload).
      if (valid) {
        validChecked++;
        if (failure !== null) problem(iter, `valid stream failed: ${(failure as ProtocolError).message}`);
        else if (JSON.stringify(events) !== JSON.stringify(expected)) problem(iter, 'events differ from the generator');
      } else if (failure === null || (failure as ProtocolError).closeCode !== 1009) {
        problem(iter, 'oversized message did not fail with 1009');
      }
    }
    conn.destroy();
  }
  t.equal(problems, 0, `seed ${SEED}: no problems (replay with FUZZ_SEED=${SEED})`);
  t.ok(failedRuns > ITERATIONS / 10, `mutations do trigger failures (${failedRuns})`);
  t.ok(oracleChecked > ITERATIONS / 2, `mutated streams checked against the reference (${oracleChecked})`);
  t.ok(validChecked > ITERATIONS / 20, `valid streams checked against the generator (${validChecked})`);
});
