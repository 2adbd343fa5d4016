/**
 * Frame encoding (RFC 6455 5.2): header bytes, client masking with a fresh
 * random key per frame, and output chunks ready for a gather write.
 */
import { randomFillSync } from 'node:crypto';
import { mask } from './mask.js';

// Mask keys are drawn 4 bytes at a time from a pool refilled by one
// randomFillSync call: a syscall per frame would dominate small-frame sends.
const KEY_POOL_SIZE = 8192;
const keyPool = Buffer.allocUnsafeSlow(KEY_POOL_SIZE);
let keyPoolPos = KEY_POOL_SIZE;

/**
 * Unmasked payloads up to this size are copied behind the header into one
 * buffer: one small memcpy is cheaper than a second chunk in a gather write
 * (rough measurement with cork/uncork on a loopback net.Socket: coalescing
 * wins up to 2 KiB, the split form from 4 KiB).
 * Larger payloads go out as [header, payload] without a copy.
 */
export const COALESCE_THRESHOLD = 2048;

/** Header size in bytes for a payload of `len` bytes, with or without a mask key. */
export function frameHeaderSize(len: number, masked: boolean): number {
  return (len < 126 ? 2 : len < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Write a frame header at target[offset]: first byte `b0` (FIN | RSV | opcode),
 * the shortest length form for `len`, then, when `masked`, a fresh random
 * 4-byte key. Returns the offset just after the header (where the payload goes).
 */
export function writeFrameHeader(target: Buffer, offset: number, b0: number, len: number, masked: boolean): number {
  const m = masked ? 0x80 : 0;
  target[offset] = b0;
  if (len < 126) {
    target[offset + 1] = m | len;
    offset += 2;
  } else if (len < 65536) {
    target[offset + 1] = m | 126;
    target[offset + 2] = len >>> 8;
    target[offset + 3] = len & 0xff;
    offset += 4;
  } else {
    target[offset + 1] = m | 127;
    target.writeUInt32BE(Math.floor(len / 4294967296), offset + 2);
    target.writeUInt32BE(len >>> 0, offset + 6);
    offset += 10;
  }
  if (masked) {
    if (keyPoolPos + 4 > KEY_POOL_SIZE) {
      randomFillSync(keyPool);
      keyPoolPos = 0;
    }
    target[offset] = keyPool[keyPoolPos];
    target[offset + 1] = keyPool[keyPoolPos + 1];
    target[offset + 2] = keyPool[keyPoolPos + 2];
    target[offset + 3] = keyPool[keyPoolPos + 3];
    keyPoolPos += 4;
    offset += 4;
  }
  return offset;
}

/**
 * Encode one whole frame (header, then the payload, masked when `masked`) into
 * `target` at `offset`; `target` needs `frameHeaderSize(payload.length, masked) +
 * payload.length` bytes from there. Returns the offset just after the frame.
 * `payload` itself is never modified.
 */
export function encodeFrameInto(target: Buffer, offset: number, b0: number, payload: Buffer, masked: boolean): number {
  const len = payload.length;
  const start = writeFrameHeader(target, offset, b0, len, masked);
  if (len <= SMALL_COPY) {
    for (let i = 0; i < len; i++) target[start + i] = payload[i]!;
  } else {
    target.set(payload, start);
  }
  if (masked) mask(target, start, start + len, target, start - 4, 0);
  return start + len;
}

/** Payloads up to this size are copied byte by byte: cheaper than a native copy's call. */
const SMALL_COPY = 32;

/**
 * Encode one frame as the chunks to write, in order.
 * - masked (client): one new buffer, header + masked copy of `payload`
 *   (`payload` itself is never modified);
 * - unmasked, payload <= COALESCE_THRESHOLD: one new buffer;
 * - unmasked, larger: [header, payload] — `payload` is referenced, not copied.
 */
export function encodeFrame(b0: number, payload: Buffer, masked: boolean): Buffer[] {
  const len = payload.length;
  const hs = frameHeaderSize(len, masked);
  if (masked || len <= COALESCE_THRESHOLD) {
    const out = Buffer.allocUnsafe(hs + len);
    encodeFrameInto(out, 0, b0, payload, masked);
    return [out];
  }
  const header = Buffer.allocUnsafe(hs);
  writeFrameHeader(header, 0, b0, len, false);
  return [header, payload];
}

/** Where frames go: chunks, and optionally whole frames encoded by the sink itself. */
export interface FrameOutput {
  write(chunks: Buffer[]): boolean | void;
  writeFrame?(b0: number, payload: Buffer, masked: boolean): boolean | void;
}

/**
 * Write one frame to `sink`: through its own `writeFrame` when it has one (a transport that
 * encodes small frames into its write batch), else as the chunks of {@link encodeFrame}.
 */
export function writeFrameTo(sink: FrameOutput, b0: number, payload: Buffer, masked: boolean): boolean | void {
  return sink.writeFrame !== undefined ? sink.writeFrame(b0, payload, masked) : sink.write(encodeFrame(b0, payload, masked));
}
