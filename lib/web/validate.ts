/**
 * The argument checks of the WHATWG WebSockets standard, shared by WebSocket and
 * WebSocketStream: the URL (constructor steps 1-6), the subprotocol list (steps 7-8)
 * and the close code and reason ("validate close code and reason"). Each failure is the
 * DOMException the standard names.
 */
import { isToken } from '../http/tokens.js';

/** Longest close reason in UTF-8 bytes (a 125-byte control payload minus the code). */
const MAX_REASON_BYTES = 123;

/** The URL to dial: http/https rewritten to ws/wss; other schemes and fragments throw SyntaxError. */
export function parseWebSocketUrl(url: unknown): URL {
  const text = usvString(url);
  let record: URL;
  try {
    // Node has no document, so there is no API base URL: a relative URL cannot be resolved.
    record = new URL(text);
  } catch {
    throw new DOMException(`Invalid URL: ${text}`, 'SyntaxError');
  }
  if (record.protocol === 'http:') record.protocol = 'ws:';
  else if (record.protocol === 'https:') record.protocol = 'wss:';
  if (record.protocol !== 'ws:' && record.protocol !== 'wss:') {
    throw new DOMException(`The URL's scheme must be ws, wss, http or https, not ${record.protocol.slice(0, -1)}`, 'SyntaxError');
  }
  // `hash` is '' for an empty fragment too; the serialization keeps its '#'.
  if (record.href.includes('#')) throw new DOMException('The URL must not have a fragment', 'SyntaxError');
  return record;
}

/** A subprotocol list: each an HTTP token (RFC 6455 4.1), none twice (exact comparison, as tokens are case-sensitive). */
export function checkProtocols(protocols: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const p of protocols) {
    if (!isToken(p)) throw new DOMException(`Invalid subprotocol ${JSON.stringify(p)}: it must be an HTTP token`, 'SyntaxError');
    if (seen.has(p)) throw new DOMException(`The subprotocol ${JSON.stringify(p)} is listed twice`, 'SyntaxError');
    seen.add(p);
  }
  return [...seen];
}

/** WebIDL `(DOMString or sequence<DOMString>)`: a string stands for a list of one. */
export function toProtocolList(value: unknown): string[] {
  if (value === undefined) return [];
  if (value !== null && typeof value === 'object' && Symbol.iterator in value) return Array.from(value as Iterable<unknown>, (v) => String(v));
  return [String(value)];
}

/**
 * The standard's close checks: a code other than 1000 or 3000-4999 is an InvalidAccessError,
 * a reason over 123 UTF-8 bytes a SyntaxError; a reason without a code means 1000.
 */
export function checkClose(code: number | undefined, reason: string | undefined): { code: number | undefined; reason: string } {
  if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
    throw new DOMException(`The close code must be 1000 or in 3000-4999, not ${code}`, 'InvalidAccessError');
  }
  const text = reason ?? '';
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_REASON_BYTES) throw new DOMException(`The close reason is ${bytes} bytes of UTF-8; at most ${MAX_REASON_BYTES}`, 'SyntaxError');
  return { code: code === undefined && text !== '' ? 1000 : code, reason: text };
}

/** WebIDL `[Clamp] unsigned short`: NaN is 0, the rest clamped to 0-65535 and rounded half to even. */
export function clampUnsignedShort(value: unknown): number {
  const x = Number(value);
  if (Number.isNaN(x)) return 0;
  const c = Math.min(Math.max(x, 0), 65535);
  const f = Math.floor(c);
  const d = c - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}

/** WebIDL `[EnforceRange] unsigned short`: a TypeError outside 0-65535 or for NaN/Infinity; truncated. */
export function enforceUnsignedShort(value: unknown, what: string): number {
  const x = Number(value);
  if (!Number.isFinite(x)) throw new TypeError(`${what} must be a finite number, not ${String(value)}`);
  const t = Math.trunc(x);
  if (t < 0 || t > 65535) throw new TypeError(`${what} must be in 0-65535, not ${String(value)}`);
  return t;
}

/** WebIDL USVString: lone surrogates become U+FFFD. */
export function usvString(value: unknown): string {
  return (String(value) as string & { toWellFormed(): string }).toWellFormed();
}
