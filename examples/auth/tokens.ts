// Signed session tokens for the auth example: "<payload>.<signature>", both base64url,
// the payload JSON { user, expiresAt } (expiresAt in milliseconds since the epoch, so
// that a test can make one expire within a fraction of a second), the signature an
// HMAC-SHA256 of the payload text. A real application would more likely use its
// session store or a JWT library; the shape of the WebSocket side stays the same.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a valid token says. */
export interface Session {
  user: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

function sign(payload: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

/** A token for `user` that expires `ttlMs` milliseconds from now. */
export function issueToken(secret: string, user: string, ttlMs: number): string {
  const payload = Buffer.from(JSON.stringify({ user, expiresAt: Date.now() + ttlMs } satisfies Session)).toString('base64url');
  return `${payload}.${sign(payload, secret).toString('base64url')}`;
}

/** The session a token carries, or undefined when it is malformed, forged or expired. */
export function verifyToken(secret: string, token: string, now = Date.now()): Session | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = sign(payload, secret);
  // timingSafeEqual throws on a length mismatch; compare in constant time otherwise.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let session: unknown;
  try {
    session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof session !== 'object' || session === null) return undefined;
  const { user, expiresAt } = session as Record<string, unknown>;
  if (typeof user !== 'string' || typeof expiresAt !== 'number' || !(expiresAt > now)) return undefined;
  return { user, expiresAt };
}
