/**
 * Periodic per-connection checks (keepalive pings, dead-peer and idle
 * timeouts) for many connections at once.
 *
 * A private timer per connection costs a Timeout, closures and a timer-list
 * entry for every idle socket. Instead, connections with the same period share
 * one ticker that visits each of them; a connection keeps only a few deadlines
 * and flags that its data path sets with single stores.
 */

/** A connection the ticker visits. */
export interface TickerMember {
  /** Called on every tick with the current time (ms). */
  tick(now: number): void;
}

class Ticker {
  readonly members = new Set<TickerMember>();
  private readonly timer: NodeJS.Timeout;

  constructor(readonly period: number) {
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const m of this.members) m.tick(now);
    }, period);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

const tickers = new Map<number, Ticker>();

/**
 * How often a connection must be visited for these durations (ms; 0 = not
 * used): four times per shortest one, so a deadline is at most a quarter late.
 * 0 when none is used.
 */
export function tickPeriod(...durations: number[]): number {
  const used = durations.filter((d) => d > 0);
  return used.length === 0 ? 0 : Math.max(1, Math.floor(Math.min(...used) / 4));
}

/** Start visiting `member` every `period` ms. */
export function joinTicker(member: TickerMember, period: number): void {
  let ticker = tickers.get(period);
  if (ticker === undefined) {
    ticker = new Ticker(period);
    tickers.set(period, ticker);
  }
  ticker.members.add(member);
}

/** Stop visiting `member`; the shared timer stops with its last member. */
export function leaveTicker(member: TickerMember, period: number): void {
  const ticker = tickers.get(period);
  if (ticker === undefined || !ticker.members.delete(member)) return;
  if (ticker.members.size === 0) {
    ticker.stop();
    tickers.delete(period);
  }
}
