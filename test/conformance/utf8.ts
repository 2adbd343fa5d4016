/**
 * An independent UTF-8 prefix checker (RFC 3629 section 4 table) for the tests: it says
 * at which byte a sequence stops being a possible prefix of valid UTF-8, which is where
 * a strict endpoint must fail the connection.
 */

/** Allowed range of the 2nd byte after a lead byte; later continuation bytes are 80..BF. */
function second(lead: number): [number, number] | null {
  if (lead >= 0xc2 && lead <= 0xdf) return [0x80, 0xbf];
  if (lead === 0xe0) return [0xa0, 0xbf];
  if ((lead >= 0xe1 && lead <= 0xec) || lead === 0xee || lead === 0xef) return [0x80, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead >= 0xf1 && lead <= 0xf3) return [0x80, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return null;
}

function seqLen(lead: number): number {
  return lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
}

/**
 * The number of bytes after which `b` can no longer be the start of valid UTF-8
 * (1-based), or -1 when every prefix could still be valid (it may still end mid-sequence).
 */
export function utf8FailPoint(b: Buffer): number {
  let need = 0;
  let pos = 0;
  for (let i = 0; i < b.length; i++) {
    const x = b[i];
    if (need === 0) {
      if (x < 0x80) continue;
      if (!second(x)) return i + 1;
      need = seqLen(x) - 1;
      pos = 1;
      continue;
    }
    const [lo, hi] = pos === 1 ? second(b[i - 1])! : [0x80, 0xbf];
    if (x < lo || x > hi) return i + 1;
    pos++;
    need--;
  }
  return -1;
}

/** True when the whole buffer is valid UTF-8. */
export function isValidUtf8(b: Buffer): boolean {
  if (utf8FailPoint(b) !== -1) return false;
  // Complete only if the last sequence is finished: walk back over continuation bytes.
  let i = b.length - 1;
  let cont = 0;
  while (i >= 0 && (b[i] & 0xc0) === 0x80) { i--; cont++; }
  if (i < 0) return cont === 0;
  return b[i] < 0x80 ? cont === 0 : seqLen(b[i]) === cont + 1;
}
