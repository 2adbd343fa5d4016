/**
 * How a server says goodbye: the close frame of `close()` and `drain()`
 * (code, reason, the `retry-after=SECONDS` hint) and the drain schedule that
 * spreads the closes over a window so that clients reconnect gradually.
 */
import { InvalidArgumentError } from '../errors.js';
import { encodeClosePayload } from '../protocol/close.js';
import { withRetryAfter } from '../protocol/retry-after.js';
import { systemClock, type Clock } from '../timers.js';

/** Options of `server.close()`. */
export interface ServerCloseOptions {
  /** Close code sent to every connection. Default 1001 (Going Away); 1012 Service Restart and 1013 Try Again Later tell clients to come back later. */
  code?: number;
  /** Close reason. Default 'Server shutting down' with the default code, '' with another. */
  reason?: string;
  /** Seconds: appends the delay hint `retry-after=SECONDS` to the reason (see `parseRetryAfter`). */
  retryAfter?: number;
  /** Milliseconds to wait for closing handshakes before terminating the rest. Default 5000. */
  timeout?: number;
}

/** Options of `server.drain()`. */
export interface DrainOptions {
  /** Close code. Default 1012 (Service Restart). */
  code?: number;
  /** Close reason. Default ''. */
  reason?: string;
  /** Seconds: appends `retry-after=SECONDS` to the reason. */
  retryAfter?: number;
  /** Milliseconds over which the open connections are closed, in evenly spaced batches. */
  over: number;
}

/** A resolved close frame. */
export interface Goodbye {
  code: number;
  reason: string;
}

export const DEFAULT_CLOSE_TIMEOUT = 5000;
/** Batches of a drain are at least this many ms apart (fewer, larger batches for a short window). */
export const MIN_DRAIN_INTERVAL = 100;

/**
 * The close frame for these options, checked now (a bad code, reason or
 * retryAfter is the caller's bug: InvalidArgumentError, before anything stops).
 */
export function goodbye(code: number, reason: string | undefined, retryAfter: number | undefined, defaultReason: string): Goodbye {
  let text = reason ?? defaultReason;
  if (retryAfter !== undefined) text = withRetryAfter(text, retryAfter);
  encodeClosePayload(code, text);
  return { code, reason: text };
}

/** `close()`'s argument: the old `timeoutMs` number, or options. */
export function resolveClose(options: number | ServerCloseOptions): Goodbye & { timeout: number } {
  const o = typeof options === 'number' ? { timeout: options } : options ?? {};
  const timeout = o.timeout ?? DEFAULT_CLOSE_TIMEOUT;
  if (typeof timeout !== 'number' || !(timeout >= 0)) throw new InvalidArgumentError(`close timeout must be a number >= 0 (got ${String(timeout)})`);
  const code = o.code ?? 1001;
  return { ...goodbye(code, o.reason, o.retryAfter, o.code === undefined ? 'Server shutting down' : ''), timeout };
}

/** `drain()`'s argument, checked. */
export function resolveDrain(options: DrainOptions): Goodbye & { over: number } {
  const over = options?.over;
  if (typeof over !== 'number' || !Number.isFinite(over) || over < 0) {
    throw new InvalidArgumentError(`drain() needs over: the window in ms, a finite number >= 0 (got ${String(over)})`);
  }
  return { ...goodbye(options.code ?? 1012, options.reason, options.retryAfter, ''), over };
}

/**
 * The batches for `n` connections over `over` ms: at most one batch per
 * {@link MIN_DRAIN_INTERVAL} and at least one connection per batch; batch k
 * (0-based) runs at k * interval and holds connections
 * [floor(k n / batches), floor((k+1) n / batches)). The first runs at once,
 * the last at over - interval.
 */
export function drainPlan(n: number, over: number): { batches: number; interval: number } {
  if (n === 0) return { batches: 0, interval: 0 };
  const batches = Math.min(n, Math.max(1, Math.floor(over / MIN_DRAIN_INTERVAL)));
  return { batches, interval: over / batches };
}

/**
 * Run the plan over `items`, calling `each` for every item of a batch when
 * its time comes (the first batch synchronously). Returns a cancel function.
 */
export function runDrain<T>(items: readonly T[], over: number, each: (item: T) => void, clock: Clock = systemClock): () => void {
  const n = items.length;
  const { batches, interval } = drainPlan(n, over);
  let k = 0;
  const batch = (): void => {
    const end = Math.floor(((k + 1) * n) / batches);
    for (let i = Math.floor((k * n) / batches); i < end; i++) each(items[i]!);
    k++;
  };
  if (batches === 0) return () => {};
  batch();
  if (k >= batches) return () => {};
  const handle = clock.setInterval(() => {
    batch();
    if (k >= batches) clock.clearInterval(handle);
  }, interval);
  return () => clock.clearInterval(handle);
}
