/**
 * Keepalive with dead-peer detection, for many connections at once.
 *
 * A private interval timer per connection costs a Timeout, closures and a
 * timer-list entry for every idle socket. Instead, connections with the same
 * settings share one ticker that walks them a few times per interval; each
 * connection keeps only two deadlines and a "seen" flag that the data path
 * sets with a single store.
 */

/** A connection the ticker visits. */
export interface KeepAliveMember {
  /** Called on every tick with the current time (ms). */
  keepAliveTick(now: number): void;
}

class Ticker {
  readonly members = new Set<KeepAliveMember>();
  private readonly timer: NodeJS.Timeout;

  constructor(readonly period: number) {
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const m of this.members) m.keepAliveTick(now);
    }, period);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

const tickers = new Map<number, Ticker>();

/**
 * How often a connection with these settings must be visited: four times per
 * interval or timeout, whichever is shorter, so pings and the dead-peer verdict
 * are at most a quarter late.
 */
export function tickPeriod(interval: number, timeout: number): number {
  return Math.max(1, Math.floor(Math.min(interval, timeout) / 4));
}

/** Start visiting `member` every `period` ms. */
export function joinKeepAlive(member: KeepAliveMember, period: number): void {
  let ticker = tickers.get(period);
  if (ticker === undefined) {
    ticker = new Ticker(period);
    tickers.set(period, ticker);
  }
  ticker.members.add(member);
}

/** Stop visiting `member`; the shared timer stops with its last member. */
export function leaveKeepAlive(member: KeepAliveMember, period: number): void {
  const ticker = tickers.get(period);
  if (ticker === undefined || !ticker.members.delete(member)) return;
  if (ticker.members.size === 0) {
    ticker.stop();
    tickers.delete(period);
  }
}
