/**
 * One deadline per connection at which it is closed with a chosen code
 * (session expiry: `ws.expireAt()`, or `expiresAt` from `authorize`), on the
 * injectable {@link Clock} of lib/timers.ts.
 */
import { expiryTime, SESSION_EXPIRED_CODE, SESSION_EXPIRED_REASON } from './handshake/session-terms.js';
import { encodeClosePayload } from './protocol/close.js';
import { systemClock, type Clock } from './timers.js';

export { SESSION_EXPIRED_CODE, SESSION_EXPIRED_REASON };

/**
 * Longest single wait: Node's timers take at most 2^31-1 ms (24.8 days) and
 * turn a longer delay into 1 ms. A later deadline is reached in several waits,
 * each re-reading the clock.
 */
const MAX_WAIT = 2 ** 31 - 1;

/**
 * Check an expiry's arguments as `close()` checks its own; returns the time.
 * @throws InvalidArgumentError on a bad time, code or reason.
 */
export function checkExpiry(at: Date | number, code = SESSION_EXPIRED_CODE, reason = SESSION_EXPIRED_REASON): number {
  const time = expiryTime(at);
  encodeClosePayload(code, reason);
  return time;
}

/** The deadline of one connection: at most one wait scheduled at a time. */
export class Expiry {
  private handle: unknown = null;
  private at = 0;

  constructor(
    private readonly onExpire: (code: number, reason: string) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Replace any earlier deadline with `at`; a time not in the future calls
   * `onExpire` at once (synchronously). The code and reason are checked now,
   * as `close()` would check them.
   * @throws InvalidArgumentError on a bad time, code or reason.
   */
  set(at: Date | number, code = SESSION_EXPIRED_CODE, reason = SESSION_EXPIRED_REASON): void {
    const time = checkExpiry(at, code, reason);
    this.clear();
    this.at = time;
    this.wait(code, reason);
  }

  /** Drop the deadline (the connection closed, or the application cancelled it). */
  clear(): void {
    if (this.handle === null) return;
    this.clock.clearInterval(this.handle);
    this.handle = null;
  }

  /** Whether a deadline is scheduled. */
  get pending(): boolean {
    return this.handle !== null;
  }

  private wait(code: number, reason: string): void {
    const left = this.at - this.clock.now();
    if (left <= 0) {
      this.onExpire(code, reason);
      return;
    }
    // The clock offers intervals only: this one is cleared the first time it fires.
    const handle = this.clock.setInterval(() => {
      if (this.handle !== handle) return;
      this.clock.clearInterval(handle);
      this.handle = null;
      this.wait(code, reason);
    }, Math.min(left, MAX_WAIT));
    this.handle = handle;
  }
}
