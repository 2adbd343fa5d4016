/**
 * Strict UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above
 * U+10FFFF), incremental across chunks so a text message fails as soon as its
 * bytes can no longer be valid (Autobahn 6.x strict behaviour).
 *
 * A small byte-wise state machine handles sequence boundaries and short
 * inputs; `buffer.isUtf8` (native) validates the bulk of long inputs.
 */
import { isUtf8 } from 'node:buffer';

// States of the byte-wise automaton. ACCEPT = at a sequence boundary.
const ACCEPT = 0;
const NEED1 = 1; // one more 80..BF
const NEED2 = 2; // two more 80..BF
const NEED3 = 3; // three more 80..BF
const AFTER_E0 = 4; // next A0..BF (no overlong 3-byte)
const AFTER_ED = 5; // next 80..9F (no surrogates)
const AFTER_F0 = 6; // next 90..BF (no overlong 4-byte)
const AFTER_F4 = 7; // next 80..8F (nothing above U+10FFFF)
const REJECT = 8;

// The native call has a fixed cost of ~100 ns: below JS_ASCII_LIMIT bytes an
// ASCII scan in JS is cheaper; non-ASCII text goes native once at least
// JS_MIXED_LIMIT bytes remain (the table walk costs a few ns per byte).
const JS_ASCII_LIMIT = 256;
const JS_MIXED_LIMIT = 24;
// From this size a whole buffer (no view to build) goes native at once: A/B against
// the JS path, ASCII broke even at 64 B, multi-byte text won from 16 B (bench/RESULTS.md, round two).
const WHOLE_NATIVE_MIN = 64;

function step(s: number, c: number): number {
  switch (s) {
    case ACCEPT:
      if (c < 0x80) return ACCEPT;
      if (c < 0xc2) return REJECT;
      if (c < 0xe0) return NEED1;
      if (c === 0xe0) return AFTER_E0;
      if (c === 0xed) return AFTER_ED;
      if (c < 0xf0) return NEED2;
      if (c === 0xf0) return AFTER_F0;
      if (c < 0xf4) return NEED3;
      if (c === 0xf4) return AFTER_F4;
      return REJECT;
    case NEED1: return (c & 0xc0) === 0x80 ? ACCEPT : REJECT;
    case NEED2: return (c & 0xc0) === 0x80 ? NEED1 : REJECT;
    case NEED3: return (c & 0xc0) === 0x80 ? NEED2 : REJECT;
    case AFTER_E0: return c >= 0xa0 && c <= 0xbf ? NEED1 : REJECT;
    case AFTER_ED: return c >= 0x80 && c <= 0x9f ? NEED1 : REJECT;
    case AFTER_F0: return c >= 0x90 && c <= 0xbf ? NEED2 : REJECT;
    case AFTER_F4: return c >= 0x80 && c <= 0x8f ? NEED2 : REJECT;
    default: return REJECT;
  }
}

// step() unrolled into a lookup table, indexed by (state << 8) | byte.
const TABLE = new Uint8Array(9 << 8);
for (let st = 0; st < 9; st++) for (let c = 0; c < 256; c++) TABLE[(st << 8) | c] = step(st, c);

/** Runs the automaton over buf[i, end) from state s; returns the end state. */
function run(buf: Uint8Array, i: number, end: number, s: number): number {
  while (i < end) {
    if (s === ACCEPT) {
      // ASCII runs are the common case: skip them four bytes per test.
      const end4 = end - 3;
      while (i < end4 && ((buf[i] | buf[i + 1] | buf[i + 2] | buf[i + 3]) & 0x80) === 0) i += 4;
      while (i < end && buf[i] < 0x80) i++;
      if (i === end) return ACCEPT;
    }
    s = TABLE[(s << 8) | buf[i++]];
    if (s === REJECT) return REJECT;
  }
  return s;
}

/**
 * Start of a trailing sequence in buf[i, end) that is cut off by `end`, or
 * `end` when the input ends on a boundary (as far as can be told without
 * validating: malformed tails are left to the validator).
 */
function cutPoint(buf: Uint8Array, i: number, end: number): number {
  const lim = end - 4 > i ? end - 4 : i;
  let j = end - 1;
  while (j >= lim && (buf[j] & 0xc0) === 0x80) j--;
  if (j < lim) return end;
  const c = buf[j];
  if (c < 0xc0) return end;
  const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
  return end - j < need ? j : end;
}

/**
 * Automaton state after feeding buf[i, end) from state s: short ASCII runs in
 * JS, anything long or non-ASCII through the native validator, sequence
 * boundaries through the table.
 */
function feed(buf: Buffer, i: number, end: number, s: number): number {
  while (s !== ACCEPT && s !== REJECT && i < end) s = TABLE[(s << 8) | buf[i++]];
  if (s !== ACCEPT || i === end) return s;
  // A whole buffer that does not end inside a sequence: one native call, no view, no JS scan.
  if (i === 0 && end === buf.length && end >= WHOLE_NATIVE_MIN && cutPoint(buf, 0, end) === end) return isUtf8(buf) ? ACCEPT : REJECT;
  if (end - i < JS_ASCII_LIMIT) {
    const end4 = end - 3;
    while (i < end4 && ((buf[i] | buf[i + 1] | buf[i + 2] | buf[i + 3]) & 0x80) === 0) i += 4;
    while (i < end && buf[i] < 0x80) i++;
    if (end - i < JS_MIXED_LIMIT) return run(buf, i, end, ACCEPT);
  }
  const cut = cutPoint(buf, i, end);
  // A whole buffer goes to the native call as it is: a subarray view costs more than validating 1 KiB.
  if (cut > i && !isUtf8(i === 0 && cut === buf.length ? buf : buf.subarray(i, cut))) return REJECT;
  return run(buf, cut, end, ACCEPT);
}

/** Whether buf[start, end) is one complete, valid UTF-8 string. */
export function isValidUtf8(buf: Buffer, start = 0, end = buf.length): boolean {
  return feed(buf, start, end, ACCEPT) === ACCEPT;
}

/** The validator's state as a plain number, for owners that keep it in a field of their own
 *  (an idle connection then holds no validator object): start and boundary state. */
export const UTF8_ACCEPT = ACCEPT;
/** Failed for good (until the owner starts a new message at UTF8_ACCEPT). */
export const UTF8_REJECT = REJECT;

/** The state after feeding buf[start, end) from `state` (a failed state stays failed). */
export function utf8Feed(state: number, buf: Buffer, start: number, end: number): number {
  return state === REJECT ? REJECT : feed(buf, start, end, state);
}

/**
 * Incremental validator for one text message delivered in pieces. `write`
 * returns false as soon as the bytes seen so far cannot be the prefix of any
 * valid UTF-8 string; `end` says whether the message ended on a boundary and
 * resets for the next message.
 */
export class Utf8Validator {
  private state = ACCEPT;

  /** Feed buf[start, end). False = invalid (the validator stays failed until reset). */
  write(buf: Buffer, start = 0, end = buf.length): boolean {
    this.state = utf8Feed(this.state, buf, start, end);
    return this.state !== REJECT;
  }

  /** True when everything fed so far is complete and valid. Resets the validator. */
  end(): boolean {
    const ok = this.state === ACCEPT;
    this.state = ACCEPT;
    return ok;
  }

  /** Forget any partial state (start of a new message). */
  reset(): void {
    this.state = ACCEPT;
  }
}
