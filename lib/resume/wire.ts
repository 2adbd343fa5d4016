/**
 * The wire format of resumable sessions (docs/resume.md): one request header
 * and one response header negotiate the session, acknowledgements travel as
 * unsolicited pongs (RFC 6455 5.5.3), and application messages go unchanged.
 * A peer that does not know the header ignores it, so plain peers are unaffected.
 */
import { randomBytes } from 'node:crypto';

/** The header, in both directions. */
export const RESUME_HEADER = 'rfcws-resume';

/** Pong payload prefix of an acknowledgement: `rfcws-ack:<count>`. */
const ACK_PREFIX = 'rfcws-ack:';

/** 16 random bytes, base64url without padding: 22 characters. */
const ID_LENGTH = 22;
/** A message count fits in 15 decimal digits (below 2^53). */
const MAX_DIGITS = 15;

/** The client's offer: a new session, or the resumption of `id` having received `received` messages. */
export type ResumeOffer = { id: null } | { id: string; received: number };

/** The server's answer: the session's id, what it has received, whether the offered session was resumed. */
export interface ResumeAnswer {
  id: string;
  received: number;
  resumed: boolean;
}

/** A new unguessable session id (128 bits from the CSPRNG). */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

export function formatOffer(offer: ResumeOffer): string {
  return offer.id === null ? 'new' : `id=${offer.id}; received=${offer.received}`;
}

export function formatAnswer(a: ResumeAnswer): string {
  return `id=${a.id}; received=${a.received}; resumed=${a.resumed ? 1 : 0}`;
}

/** The offer in a request header value, or null when malformed. */
export function parseOffer(value: string): ResumeOffer | null {
  if (value.trim() === 'new') return { id: null };
  const p = params(value);
  if (p === null || p.size !== 2) return null;
  const id = p.get('id');
  const received = count(p.get('received'));
  return id !== undefined && isSessionId(id) && received !== null ? { id, received } : null;
}

/** The answer in a response header value, or null when malformed. */
export function parseAnswer(value: string): ResumeAnswer | null {
  const p = params(value);
  if (p === null || p.size !== 3) return null;
  const id = p.get('id');
  const received = count(p.get('received'));
  const resumed = p.get('resumed');
  if (id === undefined || !isSessionId(id) || received === null || (resumed !== '0' && resumed !== '1')) return null;
  return { id, received, resumed: resumed === '1' };
}

export function ackPayload(received: number): string {
  return ACK_PREFIX + received;
}

/** The count in an ack pong; null for a pong that is no ack, NaN for a malformed ack. */
export function parseAck(payload: Buffer): number | null {
  if (payload.length < ACK_PREFIX.length || payload.toString('latin1', 0, ACK_PREFIX.length) !== ACK_PREFIX) return null;
  return count(payload.toString('latin1', ACK_PREFIX.length)) ?? Number.NaN;
}

function isSessionId(s: string): boolean {
  if (s.length !== ID_LENGTH) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95;
    if (!ok) return false;
  }
  return true;
}

function count(s: string | undefined): number | null {
  if (s === undefined || s.length === 0 || s.length > MAX_DIGITS) return null;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 48 || s.charCodeAt(i) > 57) return null;
  return Number(s);
}

/** `name=value` items separated by `;` (spaces around them allowed); null on a repeat or a malformed item. */
function params(value: string): Map<string, string> | null {
  const out = new Map<string, string>();
  for (const item of value.split(';')) {
    const eq = item.indexOf('=');
    if (eq < 0) return null;
    const name = item.slice(0, eq).trim();
    if (out.has(name)) return null;
    out.set(name, item.slice(eq + 1).trim());
  }
  return out;
}
