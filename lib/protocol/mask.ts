/**
 * RFC 6455 5.3 masking. XOR with a 4-byte key is its own inverse, so one
 * function both masks and unmasks, in place.
 */

// Below this many bytes, setting up the 64-bit view costs more than it saves.
const WORD_THRESHOLD = 32;

// The key rotated to the current phase, twice, read back as one native-endian
// 64-bit word: writing bytes and reading the word keeps the code
// endian-agnostic. V8 compiles BigInt64Array XOR without allocating, and it
// measured about twice as fast as an Int32Array loop on 64 KiB payloads.
const keyBytes = new Uint8Array(8);
const keyWord = new BigInt64Array(keyBytes.buffer);

/**
 * XOR `buf[start, end)` in place with the 4-byte key at `key[keyOffset..+3]`.
 * `phase` is the index (mod 4) of `buf[start]` within the frame payload, so a
 * payload arriving in several chunks is unmasked piece by piece with the right
 * key byte. Works for any alignment of `buf.byteOffset`; the aligned middle is
 * processed a 64-bit word at a time.
 */
export function unmask(buf: Uint8Array, start: number, end: number, key: Uint8Array, keyOffset = 0, phase = 0): void {
  let p = phase & 3;
  let i = start;
  if (end - start >= WORD_THRESHOLD) {
    // Bring the absolute address to a multiple of 8 so the word view is legal.
    const head = (8 - ((buf.byteOffset + i) & 7)) & 7;
    for (let h = 0; h < head; h++, i++) {
      buf[i] ^= key[keyOffset + p];
      p = (p + 1) & 3;
    }
    keyBytes[0] = key[keyOffset + p];
    keyBytes[1] = key[keyOffset + ((p + 1) & 3)];
    keyBytes[2] = key[keyOffset + ((p + 2) & 3)];
    keyBytes[3] = key[keyOffset + ((p + 3) & 3)];
    keyBytes[4] = keyBytes[0];
    keyBytes[5] = keyBytes[1];
    keyBytes[6] = keyBytes[2];
    keyBytes[7] = keyBytes[3];
    const m = keyWord[0];
    const words = Math.floor((end - i) / 8);
    const view = new BigInt64Array(buf.buffer, buf.byteOffset + i, words);
    const unrolled = words & ~7;
    let w = 0;
    for (; w < unrolled; w += 8) {
      view[w] ^= m;
      view[w + 1] ^= m;
      view[w + 2] ^= m;
      view[w + 3] ^= m;
      view[w + 4] ^= m;
      view[w + 5] ^= m;
      view[w + 6] ^= m;
      view[w + 7] ^= m;
    }
    for (; w < words; w++) view[w] ^= m;
    // A whole number of words leaves the phase unchanged.
    i += words * 8;
  }
  const k0 = key[keyOffset + p];
  const k1 = key[keyOffset + ((p + 1) & 3)];
  const k2 = key[keyOffset + ((p + 2) & 3)];
  const k3 = key[keyOffset + ((p + 3) & 3)];
  const end4 = end - 3;
  for (; i < end4; i += 4) {
    buf[i] ^= k0;
    buf[i + 1] ^= k1;
    buf[i + 2] ^= k2;
    buf[i + 3] ^= k3;
  }
  if (i < end) buf[i++] ^= k0;
  if (i < end) buf[i++] ^= k1;
  if (i < end) buf[i] ^= k2;
}

/** Same operation as {@link unmask}; named for the sending side. */
export const mask = unmask;
