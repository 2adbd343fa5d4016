// The incremental UTF-8 validator against an independent reference:
// node's isUtf8 for whole strings, and "can these bytes still be completed
// into valid UTF-8?" for the fail-fast position.
import { isUtf8 } from 'node:buffer';
import t from 'tap';
import { Utf8Validator, isValidUtf8 } from '../../lib/protocol/utf8.js';
import { canComplete } from './fixtures/utf8-reference.js';

/** Index of the first byte after which the input can no longer be valid, or -1. */
function firstBad(b: Buffer): number {
  for (let k = 1; k <= b.length; k++) if (!canComplete(b.subarray(0, k))) return k - 1;
  return -1;
}

let seed = Number(process.env.UTF8_SEED ?? 12345);
function rnd(n: number): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
}

const NASTY = [0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x90, 0x8f];

function randomText(): Buffer {
  const parts: Buffer[] = [];
  const n = rnd(4) === 0 ? 300 + rnd(400) : rnd(40);
  const asciiHeavy = rnd(2) === 0;
  for (let i = 0; i < n; i++) {
    const k = rnd(10);
    let cp: number;
    if (asciiHeavy && k < 8) cp = 0x20 + rnd(95);
    else if (k < 3) cp = rnd(0x80);
    else if (k < 6) cp = 0x80 + rnd(0x780);
    else if (k < 8) cp = 0x800 + rnd(0xf800);
    else cp = 0x10000 + rnd(0x100000);
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x41;
    parts.push(Buffer.from(String.fromCodePoint(cp)));
  }
  let b = Buffer.concat(parts);
  const mutate = rnd(3);
  if (mutate >= 1 && b.length > 0) {
    const arr = [...b];
    const edits = 1 + rnd(2);
    for (let e = 0; e < edits; e++) {
      const at = rnd(arr.length + 1);
      const op = rnd(3);
      if (op === 0) arr.splice(at, 0, NASTY[rnd(NASTY.length)]);
      else if (op === 1 && arr.length > 0) arr.splice(Math.min(at, arr.length - 1), 1);
      else if (arr.length > 0) arr.length = at === 0 ? 1 : Math.min(at, arr.length);
    }
    b = Buffer.from(arr);
  }
  return b;
}

t.test('known vectors', async (t) => {
  const valid = ['', 'a', 'κόσμε', '€', '𝄞', 'c2a0', 'efbfbf', 'f48fbfbf', 'ee8080', 'ed9fbf', 'e0a080', 'f0908080'];
  for (const v of valid) {
    const b = /^[0-9a-f]+$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v);
    t.ok(isValidUtf8(b), `valid ${v}`);
  }
  const invalid = ['80', 'bf', 'c0af', 'c1bf', 'e080af', 'eda080', 'edbfbf', 'f08f8080', 'f4908080', 'f5', 'ff', 'fe', 'c2', 'e282', 'f09d84'];
  for (const v of invalid) t.notOk(isValidUtf8(Buffer.from(v, 'hex')), `invalid ${v}`);
});

t.test('random strings, random chunking: verdict and fail-fast position', async (t) => {
  let failures = 0;
  const startSeed = seed;
  for (let iter = 0; iter < 1500 && failures < 5; iter++) {
    const b = randomText();
    const bad = firstBad(b);
    const whole = isUtf8(b);
    if (isValidUtf8(b) !== whole) {
      failures++;
      t.fail(`isValidUtf8 disagrees on ${b.toString('hex')}`);
    }
    const v = new Utf8Validator();
    let pos = 0;
    let failedAt = -1;
    while (pos < b.length) {
      const n = 1 + rnd(rnd(2) ? 8 : 400);
      const end = Math.min(b.length, pos + n);
      if (!v.write(b, pos, end)) {
        failedAt = end;
        break;
      }
      pos = end;
    }
    if (bad === -1) {
      if (failedAt !== -1 || v.end() !== whole) {
        failures++;
        t.fail(`valid prefix rejected or wrong end verdict: ${b.toString('hex')}`);
      }
    } else if (failedAt === -1 || !(bad < failedAt && bad >= pos)) {
      failures++;
      t.fail(`bad byte at ${bad} but failed in the chunk ending ${failedAt} (started ${pos}): ${b.toString('hex')}`);
    }
  }
  t.equal(failures, 0, `seed ${startSeed} (replay with UTF8_SEED)`);
});

t.test('validator: reset, end, stays failed', async (t) => {
  const v = new Utf8Validator();
  t.ok(v.write(Buffer.from('e2', 'hex')));
  t.notOk(v.end(), 'incomplete at end');
  t.ok(v.end(), 'end() reset the state');
  t.notOk(v.write(Buffer.from('ff', 'hex')));
  t.notOk(v.write(Buffer.from('a')), 'stays failed');
  v.reset();
  t.ok(v.write(Buffer.from('a')));
  t.ok(v.end());
  // Long inputs (native path) with a sequence cut at the end, completed by the next piece.
  const long = Buffer.concat([Buffer.alloc(1000, 0x61), Buffer.from('f09d', 'hex')]);
  t.ok(v.write(long));
  t.ok(v.write(Buffer.from('849e', 'hex')));
  t.ok(v.end());
  const longBad = Buffer.concat([Buffer.alloc(1000, 0x61), Buffer.from('f09d', 'hex')]);
  t.ok(v.write(longBad));
  t.notOk(v.write(Buffer.from('41', 'hex')));
});
