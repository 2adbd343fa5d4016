/**
 * The reconnect delay: exponential backoff with full jitter (a uniform draw
 * between 0 and min(maxDelay, baseDelay * 2^(attempt-1))), so a crowd of
 * clients that lost the same server spreads its retries over the whole
 * window instead of arriving in waves. 1012/1013 closes get a longer window,
 * and a `retry-after=SECONDS` hint in their reason sets it.
 */
import { parseRetryAfter } from '../protocol/retry-after.js';

export interface BackoffOptions {
  /** Window of the first reconnect (ms). Default 1000. */
  baseDelay?: number;
  /** Cap of the exponential window (ms). Default 30 000. */
  maxDelay?: number;
  /** Least window after a 1012 Service Restart or 1013 Try Again Later without a hint (ms). Default 5000. */
  restartDelay?: number;
  /** Cap of a server's `retry-after` hint (ms). Default 60 000. */
  maxRetryAfter?: number;
}

export type ResolvedBackoff = Readonly<Required<BackoffOptions>>;

export const DEFAULT_BACKOFF: ResolvedBackoff = Object.freeze({
  baseDelay: 1000,
  maxDelay: 30_000,
  restartDelay: 5000,
  maxRetryAfter: 60_000,
});

/** The window (ms) the delay of reconnect number `attempt` (1, 2, ...) is drawn from. */
export function backoffWindow(o: ResolvedBackoff, attempt: number, closeCode?: number, closeReason = ''): number {
  const exponential = Math.min(o.maxDelay, o.baseDelay * 2 ** Math.max(0, attempt - 1));
  if (closeCode !== 1012 && closeCode !== 1013) return exponential;
  const hint = parseRetryAfter(closeReason);
  if (hint !== undefined) return Math.min(o.maxRetryAfter, hint * 1000);
  return Math.min(o.maxRetryAfter, Math.max(o.restartDelay, exponential));
}

/** Full jitter: `random()` in [0, 1) scaled to the window, whole milliseconds. */
export function jitter(window: number, random: () => number): number {
  return Math.floor(random() * window);
}
