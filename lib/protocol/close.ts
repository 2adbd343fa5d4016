/**
 * Close frame rules (RFC 6455 5.5.1, 7.4): which codes may appear on the
 * wire, which the API accepts, and the close payload encoding.
 */
import { InvalidArgumentError, ProtocolError } from '../errors.js';
import { isValidUtf8 } from './utf8.js';

/** Longest close reason: 125-byte control payload minus the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Whether `code` may appear in a received close frame: 1000-1003, 1007-1014
 * (IANA-registered; Autobahn 7.7 treats them as valid) and 3000-4999.
 * Excluded: below 1000, 1004 (reserved), 1005/1006/1015 (must never be sent),
 * 1016-2999 (reserved for future RFCs), 5000 and above.
 */
export function isValidWireCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/**
 * Whether the API accepts `code` for close(): exactly the codes an endpoint
 * may put on the wire (a peer must accept everything we send).
 */
export function isValidApiCloseCode(code: number): boolean {
  return Number.isInteger(code) && isValidWireCloseCode(code);
}

/**
 * Close payload for close(code, reason), validated for the API.
 * `code` undefined => empty payload (then reason must be empty too).
 * Throws InvalidArgumentError.
 */
export function encodeClosePayload(code?: number, reason = ''): Buffer {
  if (code === undefined) {
    if (reason !== '') throw new InvalidArgumentError('A close reason requires a close code');
    return Buffer.alloc(0);
  }
  if (typeof code !== 'number' || !isValidApiCloseCode(code)) {
    throw new InvalidArgumentError(`Invalid close code ${String(code)}: use 1000-1003, 1007-1014 or 3000-4999`);
  }
  if (typeof reason !== 'string') throw new InvalidArgumentError('The close reason must be a string');
  const len = Buffer.byteLength(reason);
  if (len > MAX_CLOSE_REASON_BYTES) {
    throw new InvalidArgumentError(`The close reason is ${len} bytes of UTF-8; the limit is ${MAX_CLOSE_REASON_BYTES}`);
  }
  const out = Buffer.allocUnsafe(2 + len);
  out.writeUInt16BE(code, 0);
  if (len > 0) out.write(reason, 2);
  return out;
}

/** Close payload carrying only a code (echoes, failures). No validation. */
export function closeCodePayload(code: number): Buffer {
  const out = Buffer.allocUnsafe(2);
  out.writeUInt16BE(code, 0);
  return out;
}

/** A decoded close frame. `code` is 1005 when the frame had no payload. */
export interface ClosePayload {
  code: number;
  reason: string;
}

/**
 * Decode a received close payload. Throws ProtocolError 1002 (1-byte payload,
 * code not allowed on the wire) or 1007 (reason not valid UTF-8).
 */
export function decodeClosePayload(payload: Buffer): ClosePayload {
  if (payload.length === 0) return { code: 1005, reason: '' };
  if (payload.length === 1) throw new ProtocolError(1002, 'Close frame payload of 1 byte');
  const code = payload.readUInt16BE(0);
  if (!isValidWireCloseCode(code)) throw new ProtocolError(1002, `Invalid close code ${code} received`);
  if (!isValidUtf8(payload, 2, payload.length)) throw new ProtocolError(1007, 'Close reason is not valid UTF-8');
  return { code, reason: payload.toString('utf8', 2) };
}
