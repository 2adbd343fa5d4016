/**
 * The reconnect delay: exponential backoff with full jitter, slotted from the
 * moment the connection was lost. Reconnect number n of an outage is drawn
 * uniformly from its own slot [S(n-1), S(n)) after the loss, where the slot
 * widths are the windows firstDelay, baseDelay, 2 baseDelay, 4 baseDelay, ...
 * (capped at maxDelay) and S(n) is their running sum. A crowd of clients that
 * lost the same server at the same moment is then spread uniformly over each
 * slot, whenever the server comes back: the density of dials at any moment is
 * at most N / (width of the current slot). With independent draws measured
 * from each failure instead, the clients' phases drift and bunch up, and the
 * slowest client is back only after the longest window it happened to draw
 * (bench/RESULTS.md, "Storm analysis", has the numbers behind the defaults).
 * 1012/1013 closes get a longer window, and a `retry-after=SECONDS` hint in
 * their reason sets it.
 */
import { parseRetryAfter } from '../protocol/retry-after.js';

export interface BackoffOptions {
  /** Window of the first reconnect after a connection was lost (ms). Default 1000 (at most baseDelay). */
  firstDelay?: number;
  /** Window of the second reconnect (ms); each later one doubles it. Default 3000. */
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
  firstDelay: 1000,
  baseDelay: 3000,
  maxDelay: 30_000,
  restartDelay: 5000,
  maxRetryAfter: 60_000,
});

/** The window (ms) of reconnect number `attempt` (1, 2, ...): firstDelay, then baseDelay doubling up to maxDelay. */
export function backoffWindow(o: ResolvedBackoff, attempt: number, closeCode?: number, closeReason = ''): number {
  const exponential = attempt <= 1 ? Math.min(o.maxDelay, o.firstDelay) : Math.min(o.maxDelay, o.baseDelay * 2 ** (attempt - 2));
  if (closeCode !== 1012 && closeCode !== 1013) return exponential;
  const hint = parseRetryAfter(closeReason);
  if (hint !== undefined) return Math.min(o.maxRetryAfter, hint * 1000);
  return Math.min(o.maxRetryAfter, Math.max(o.restartDelay, exponential));
}

/** Full jitter: `random()` in [0, 1) scaled to the window, whole milliseconds. */
export function jitter(window: number, random: () => number): number {
  return Math.floor(random() * window);
}

/**
 * The delay (ms from now) of a reconnect whose slot starts `slotStart` ms
 * after the loss and is `window` ms wide, `elapsed` ms after the loss: the
 * jittered point of the slot. When that point has passed already (a slow
 * attempt overran its slot), the same draw counts from now instead.
 */
export function slotDelay(slotStart: number, window: number, elapsed: number, random: () => number): number {
  const offset = jitter(window, random);
  const target = slotStart + offset;
  return target >= elapsed ? target - elapsed : offset;
}
