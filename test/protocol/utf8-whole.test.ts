// Whole-buffer validation at the sizes where the validator switches to one native call
// (WHOLE_NATIVE_MIN = 64) and where it switches from its JS scan (256): each answer
// against a fatal TextDecoder, for the whole buffer, a view into a larger one, and pieces.
import t from 'tap';
import { isValidUtf8, Utf8Validator } from '../../lib/protocol/utf8.js';

const decoder = new TextDecoder('utf-8', { fatal: true });
function reference(b: Uint8Array): boolean {
  try { decoder.decode(b); return true; } catch { return false; }
}

/** `n` bytes: ASCII or multi-byte filler, then `tail`. */
function make(n: number, mixed: boolean, tail: number[]): Buffer {
  const fill = Buffer.from(mixed ? 'é€😀a'.repeat(n) : 'a'.repeat(n));
  const body = n - tail.length;
  let cut = body;
  while (cut > 0 && (fill[cut] & 0xc0) === 0x80) cut--; // end the filler on a boundary
  const b = Buffer.alloc(n, 0x61);
  fill.copy(b, 0, 0, cut);
  Buffer.from(tail).copy(b, body);
  return b;
}

const tails: Record<string, number[]> = {
  valid: [0x61],
  'valid 4-byte end': [0xf0, 0x9f, 0x98, 0x80],
  'invalid last byte': [0xff],
  'truncated sequence at the end': [0xe2, 0x82],
  overlong: [0xc0, 0xaf],
  'overlong 3-byte': [0xe0, 0x80, 0xaf],
  surrogate: [0xed, 0xa0, 0x80],
  'above U+10FFFF': [0xf4, 0x90, 0x80, 0x80],
};

t.test('whole buffers at the crossover sizes', async (t) => {
  let checked = 0;
  for (const n of [16, 63, 64, 65, 255, 256, 257, 1024, 4096, 65536]) {
    for (const mixed of [false, true]) {
      for (const [name, tail] of Object.entries(tails)) {
        const b = make(n, mixed, tail);
        const want = reference(b);
        if (name.startsWith('valid')) t.equal(want, true, 'fixture is valid');
        const label = `${n} ${mixed ? 'mixed' : 'ascii'} ${name}`;
        if (isValidUtf8(b) !== want) t.fail(`isValidUtf8 ${label}`);
        const v = new Utf8Validator();
        if ((v.write(b) && v.end()) !== want) t.fail(`Utf8Validator ${label}`);
        // The same bytes as a view into a larger buffer (not the whole buffer).
        const outer = Buffer.concat([Buffer.from('xy'), b, Buffer.from('z')]);
        if (isValidUtf8(outer, 2, 2 + n) !== want) t.fail(`view ${label}`);
        // In two pieces, split one byte before the end: the incremental path.
        const w = new Utf8Validator();
        if ((w.write(b.subarray(0, n - 1)) && w.write(b.subarray(n - 1)) && w.end()) !== want) t.fail(`pieces ${label}`);
        checked++;
      }
    }
  }
  t.equal(checked, 10 * 2 * Object.keys(tails).length);
});

t.test('a truncated whole buffer fails at end(), not at write()', async (t) => {
  const b = make(256, false, [0xe2, 0x82]);
  const v = new Utf8Validator();
  t.equal(v.write(b), true, 'a prefix of valid text so far');
  t.equal(v.end(), false);
  const bad = make(256, false, [0xff]);
  t.equal(v.write(bad), false, 'an impossible byte fails at write()');
});
