/**
 * What an `authorize` hook may decide about a connection's lifetime, beyond
 * accept or refuse: a session expiry (`expiresAt`, then a close with a chosen
 * code) or an accept-then-close (the 101, then at once a close frame with a
 * 4000-4999 code, for browser clients that cannot read HTTP statuses).
 */
import { InvalidArgumentError } from '../errors.js';
import { encodeClosePayload } from '../protocol/close.js';
import { internalError } from './reject.js';

/** Close code sent when a session expires, unless the application picks another (4000-4999: private use). */
export const SESSION_EXPIRED_CODE = 4001;
/** Close reason sent with {@link SESSION_EXPIRED_CODE} unless the application picks another. */
export const SESSION_EXPIRED_REASON = 'session expired';

/** A connection's lifetime as `authorize` set it; validated. */
export interface SessionTerms {
  /** true: close right after the 101 (accept-then-close); false: close at `expiresAt`. */
  readonly closeNow: boolean;
  /** Epoch milliseconds of the expiry (0 with `closeNow`). */
  readonly expiresAt: number;
  readonly code: number;
  readonly reason: string;
}

/**
 * The time of `at` (a Date or epoch milliseconds).
 * @throws InvalidArgumentError for anything else, or an invalid Date.
 */
export function expiryTime(at: Date | number): number {
  const ms = at instanceof Date ? at.getTime() : at;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new InvalidArgumentError(`An expiry is a Date or epoch milliseconds (got ${String(at)})`);
  }
  return ms;
}

/**
 * Terms of an accepting result with `expiresAt` (undefined without one).
 * @throws UpgradeRejection 500 (cause: InvalidArgumentError) on a bad time, code or reason: a bug in the hook.
 */
export function expiryTerms(result: { expiresAt?: Date | number; closeCode?: number; closeReason?: string }): SessionTerms | undefined {
  if (result.expiresAt === undefined) return undefined;
  const code = result.closeCode ?? SESSION_EXPIRED_CODE;
  const reason = result.closeReason ?? (result.closeCode === undefined ? SESSION_EXPIRED_REASON : '');
  try {
    const expiresAt = expiryTime(result.expiresAt);
    encodeClosePayload(code, reason);
    return { closeNow: false, expiresAt, code, reason };
  } catch (err) {
    throw internalError(err);
  }
}

/**
 * Terms of an accept-then-close refusal.
 * @throws UpgradeRejection 500 (cause: InvalidArgumentError) unless the code is 4000-4999 and the reason at most 123 UTF-8 bytes.
 */
export function closeTerms(result: { closeCode: number; closeReason?: string }): SessionTerms {
  const { closeCode: code, closeReason: reason = '' } = result;
  try {
    if (!Number.isInteger(code) || code < 4000 || code > 4999) {
      throw new InvalidArgumentError(`authorize() refused with close code ${String(code)}; use 4000-4999 (private use) or an HTTP status`);
    }
    encodeClosePayload(code, reason);
  } catch (err) {
    throw internalError(err);
  }
  return { closeNow: true, expiresAt: 0, code, reason };
}
