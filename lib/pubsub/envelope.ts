// What a server hands its broker for each publish: who published (so the publishing server
// can recognise its own message when the broker hands it back), how to frame it, and the
// payload. The broker sees opaque bytes (broker.ts); only servers read this format.
//
//   byte 0       version (1)
//   byte 1       flags: bit 0 binary, bit 1 compress; the others must be 0
//   bytes 2-17   origin: 16 random bytes per server instance
//   bytes 18-    the payload, as published
import { randomBytes } from 'node:crypto';
import { isValidUtf8 } from '../protocol/utf8.js';

export const ENVELOPE_VERSION = 1;
export const ORIGIN_BYTES = 16;
const HEADER = 2 + ORIGIN_BYTES;
const FLAG_BINARY = 1;
const FLAG_COMPRESS = 2;

/** A decoded envelope; `payload` is a view into the received bytes. */
export interface Envelope {
  origin: Buffer;
  binary: boolean;
  compress: boolean;
  payload: Buffer;
}

/** A fresh origin id: 128 random bits, so two servers never share one. */
export function newOrigin(): Buffer {
  return randomBytes(ORIGIN_BYTES);
}

export function encodeEnvelope(origin: Buffer, binary: boolean, compress: boolean, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out[0] = ENVELOPE_VERSION;
  out[1] = (binary ? FLAG_BINARY : 0) | (compress ? FLAG_COMPRESS : 0);
  origin.copy(out, 2, 0, ORIGIN_BYTES);
  payload.copy(out, HEADER);
  return out;
}

/**
 * The envelope in `bytes`, or null when they are not one a server could have written: too
 * short, another version, unknown flags, or a text payload that is not UTF-8 (it would go out
 * in text frames, and every subscriber would have to fail its connection with 1007).
 */
export function decodeEnvelope(bytes: Buffer): Envelope | null {
  if (!Buffer.isBuffer(bytes) || bytes.length < HEADER || bytes[0] !== ENVELOPE_VERSION) return null;
  const flags = bytes[1]!;
  if ((flags & ~(FLAG_BINARY | FLAG_COMPRESS)) !== 0) return null;
  const binary = (flags & FLAG_BINARY) !== 0;
  const payload = bytes.subarray(HEADER);
  if (!binary && !isValidUtf8(payload)) return null;
  return { origin: bytes.subarray(2, HEADER), binary, compress: (flags & FLAG_COMPRESS) !== 0, payload };
}
