// unmask/mask against a byte-by-byte reference: every alignment, phase, length.
import t from 'tap';
import { mask, unmask } from '../../lib/protocol/mask.js';

function reference(data: Uint8Array, key: Uint8Array, phase: number): Buffer {
  const out = Buffer.from(data);
  for (let i = 0; i < out.length; i++) out[i] ^= key[(i + phase) & 3];
  return out;
}

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

t.test('every alignment, phase and length', async (t) => {
  const key = Buffer.from([0x9a, 0x01, 0xff, 0x3c]);
  const lengths = [...Array.from({ length: 80 }, (_, i) => i), 127, 128, 129, 1000, 4099, 65537];
  let checked = 0;
  for (const len of lengths) {
    for (let offset = 0; offset < 9; offset++) {
      for (let phase = 0; phase < 4; phase++) {
        const backing = Buffer.alloc(len + 32);
        const data = pattern(len, len * 31 + offset * 7 + phase);
        data.copy(backing, offset);
        const view = backing.subarray(offset, offset + len);
        const expected = reference(data, key, phase);
        unmask(view, 0, len, key, 0, phase);
        if (!view.equals(expected)) t.fail(`len ${len} offset ${offset} phase ${phase}`);
        // Bytes around the range are untouched.
        if (backing.subarray(0, offset).some((b) => b !== 0) || backing.subarray(offset + len).some((b) => b !== 0)) {
          t.fail(`wrote outside the range: len ${len} offset ${offset}`);
        }
        checked++;
      }
    }
  }
  t.equal(checked, lengths.length * 36);
});

t.test('start/end inside a buffer, key at an offset', async (t) => {
  const keyHolder = Buffer.from([0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0]);
  const key = keyHolder.subarray(3, 7);
  for (const [start, end] of [[0, 0], [5, 6], [3, 40], [1, 1025], [7, 300]]) {
    const buf = pattern(1100, start + end);
    const before = Buffer.from(buf);
    mask(buf, start, end, keyHolder, 3, 0);
    t.ok(buf.subarray(start, end).equals(reference(before.subarray(start, end), key, 0)), `${start}..${end}`);
    t.ok(buf.subarray(0, start).equals(before.subarray(0, start)));
    t.ok(buf.subarray(end).equals(before.subarray(end)));
  }
});

t.test('a payload unmasked in arbitrary pieces equals unmasking it whole', async (t) => {
  const key = Buffer.from([1, 2, 3, 4]);
  const data = pattern(3000, 99);
  const expected = reference(data, key, 0);
  for (const pieces of [[1, 2, 3, 4, 5], [33, 1, 64, 7], [1000, 999, 1001], [3, 3, 3, 100, 2891]]) {
    const buf = Buffer.from(data);
    let pos = 0;
    for (let i = 0; pos < buf.length; i++) {
      const n = Math.min(pieces[i % pieces.length], buf.length - pos);
      unmask(buf, pos, pos + n, key, 0, pos & 3);
      pos += n;
    }
    t.ok(buf.equals(expected), `pieces ${pieces.join(',')}`);
  }
});

t.test('mask is its own inverse', async (t) => {
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const data = pattern(777, 5);
  const buf = Buffer.from(data);
  mask(buf, 0, buf.length, key);
  t.notOk(buf.equals(data));
  unmask(buf, 0, buf.length, key);
  t.ok(buf.equals(data));
});
