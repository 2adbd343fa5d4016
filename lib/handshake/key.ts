import { hash, randomBytes } from 'node:crypto';

/** The fixed GUID of RFC 6455 §1.3, appended to the key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// 16 bytes encode to 22 base64 characters plus "==" padding.
const KEY_RE = /^[A-Za-z0-9+/]{22}==$/;

/** A fresh Sec-WebSocket-Key: base64 of 16 random bytes (RFC 6455 §4.1). */
export function generateKey(): string {
  return randomBytes(16).toString('base64');
}

/** True when `key` is the base64 encoding of exactly 16 bytes. */
export function isValidKey(key: string): boolean {
  return KEY_RE.test(key);
}

/** Sec-WebSocket-Accept for `key`: base64(SHA-1(key + GUID)). */
export function acceptKey(key: string): string {
  // One-shot: no Hash object per handshake.
  return hash('sha1', key + WEBSOCKET_GUID, 'base64');
}
