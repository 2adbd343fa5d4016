/**
 * Keepalive pings, the dead-peer deadline and the idle timeout of many
 * connections, on shared tickers and an injectable clock.
 *
 * A private timer per connection costs a Timeout, closures and a timer-list
 * entry for every idle socket. Instead, connections with the same period
 * share one ticker that visits each of them; a connection keeps only a few
 * deadlines and flags that its data path sets with single stores.
 */

/** Time and periodic callbacks; tests pass a manual clock. */
export interface Clock {
  now(): number;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** The process clock. */
export const systemClock: Clock = {
  now: Date.now,
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/** What the deadlines act on. */
export interface LivenessOwner {
  /** Send a keepalive ping now. */
  keepAlivePing(): void;
  /** The peer sent nothing within keepAliveTimeout of a ping. */
  keepAliveExpired(): void;
  /** No data message either way for idleTimeout. */
  idleExpired(): void;
}

export interface LivenessOptions {
  /** ms between keepalive pings; 0 = off. */
  keepAliveInterval: number;
  /** ms after a ping within which some byte must arrive. */
  keepAliveTimeout: number;
  /** ms without a data message before idleExpired; 0 = off. */
  idleTimeout: number;
}

/**
 * The deadlines of one connection. The data path reports activity with
 * `received()` (any byte from the peer) and `messageActivity()` (a data
 * message either way): plain stores, no timer work.
 */
export class Liveness {
  /** Some byte arrived since the pending keepalive ping. */
  seen = true;
  /** A data message passed since the last visit. */
  active = false;
  private nextPing: number;
  private deadline = 0;
  private idleSince: number;
  private readonly period: number;
  private stopped = false;

  constructor(
    private readonly owner: LivenessOwner,
    private readonly opts: LivenessOptions,
    private readonly clock: Clock = systemClock,
  ) {
    const keepAlive = opts.keepAliveInterval > 0;
    this.period = tickPeriod(keepAlive ? opts.keepAliveInterval : 0, keepAlive ? opts.keepAliveTimeout : 0, opts.idleTimeout);
    const now = clock.now();
    this.nextPing = now + opts.keepAliveInterval;
    this.idleSince = now;
    if (this.period !== 0) joinTicker(this, this.period, clock);
  }

  /** The deadlines for `opts`, or null when none is in use (no object, no ticker visit). */
  static start(owner: LivenessOwner, opts: LivenessOptions, clock?: Clock): Liveness | null {
    return opts.keepAliveInterval > 0 || opts.idleTimeout > 0 ? new Liveness(owner, opts, clock) : null;
  }

  /** Stop for good (the connection closed). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.period !== 0) leaveTicker(this, this.period, this.clock);
  }

  /** @internal Visited by the shared ticker. */
  tick(now: number): void {
    const o = this.opts;
    if (o.keepAliveInterval > 0) {
      if (this.deadline !== 0) {
        if (this.seen) this.deadline = 0;
        else if (now >= this.deadline) {
          this.stop();
          this.owner.keepAliveExpired();
          return;
        }
      }
      if (now >= this.nextPing) {
        this.nextPing = now + o.keepAliveInterval;
        this.owner.keepAlivePing();
        // One deadline at a time, measured from the ping that started it.
        if (this.deadline === 0) {
          this.seen = false;
          this.deadline = now + o.keepAliveTimeout;
        }
      }
    }
    if (o.idleTimeout > 0) {
      if (this.active) {
        this.active = false;
        this.idleSince = now;
      } else if (now - this.idleSince >= o.idleTimeout) {
        this.idleSince = now;
        this.owner.idleExpired();
      }
    }
  }
}

/**
 * How often a connection must be visited for these durations (ms; 0 = not
 * used): four times per shortest one, so a deadline is at most a quarter late.
 * 0 when none is used.
 */
export function tickPeriod(...durations: number[]): number {
  const used = durations.filter((d) => d > 0);
  return used.length === 0 ? 0 : Math.max(1, Math.floor(Math.min(...used) / 4));
}

class Ticker {
  readonly members = new Set<Liveness>();
  private readonly handle: unknown;

  constructor(private readonly clock: Clock, period: number) {
    this.handle = clock.setInterval(() => {
      const now = clock.now();
      for (const m of this.members) m.tick(now);
    }, period);
  }

  stop(): void {
    this.clock.clearInterval(this.handle);
  }
}

/** One ticker per clock and period. */
const tickers = new Map<Clock, Map<number, Ticker>>();

function joinTicker(member: Liveness, period: number, clock: Clock): void {
  let byPeriod = tickers.get(clock);
  if (byPeriod === undefined) tickers.set(clock, (byPeriod = new Map()));
  let ticker = byPeriod.get(period);
  if (ticker === undefined) byPeriod.set(period, (ticker = new Ticker(clock, period)));
  ticker.members.add(member);
}

/** The shared timer stops with its last member. */
function leaveTicker(member: Liveness, period: number, clock: Clock): void {
  const byPeriod = tickers.get(clock);
  const ticker = byPeriod?.get(period);
  if (ticker === undefined || !ticker.members.delete(member)) return;
  if (ticker.members.size === 0) {
    ticker.stop();
    byPeriod!.delete(period);
    if (byPeriod!.size === 0) tickers.delete(clock);
  }
}

/**
 * Run `fn` once after `ms` on `clock` (an interval cleared at its first run, so
 * a manual clock drives it too). Returns the cancel function. With `unref`,
 * a timer of the process clock does not keep the process alive (a resume
 * window, an ack delay); a pending reconnect passes false.
 */
export function after(clock: Clock, ms: number, fn: () => void, unref = true): () => void {
  let done = false;
  const handle = clock.setInterval(() => {
    if (done) return;
    done = true;
    clock.clearInterval(handle);
    fn();
  }, Math.max(1, ms));
  if (unref) (handle as { unref?: () => void }).unref?.();
  return () => {
    if (done) return;
    done = true;
    clock.clearInterval(handle);
  };
}

/** A member of a {@link DeadlineSweep}: an absolute deadline in the sweep's clock's `now()` ms. */
export interface Expiring {
  readonly expiresAt: number;
  /** The deadline passed; the member has already left the sweep. */
  expire(): void;
}

/**
 * Deadlines of many short-lived members (handshakes in flight) on one
 * interval, instead of a Timeout and a closure per member. The interval runs
 * only while a member is pending and visits every `period` ms, so a member
 * expires at most `period` after its deadline (never before); the owner picks
 * the period from the shortest duration it enforces ({@link sweepPeriod}).
 */
export class DeadlineSweep<T extends Expiring> {
  private readonly members = new Set<T>();
  private handle: unknown = null;

  constructor(
    private readonly period: number,
    private readonly clock: Clock = systemClock,
  ) {}

  get size(): number {
    return this.members.size;
  }

  add(member: T): void {
    this.members.add(member);
    this.handle ??= this.clock.setInterval(() => this.sweep(), this.period);
  }

  delete(member: T): void {
    if (this.members.delete(member) && this.members.size === 0) this.stop();
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const m of this.members) {
      if (now < m.expiresAt) continue;
      this.members.delete(m);
      m.expire();
    }
    if (this.members.size === 0) this.stop();
  }

  private stop(): void {
    if (this.handle !== null) this.clock.clearInterval(this.handle);
    this.handle = null;
  }
}

/** The visit period for a deadline of `ms`: an eighth of it (at most 12.5% late), 1 ms to 1 s. */
export function sweepPeriod(ms: number): number {
  return Math.min(1000, Math.max(1, Math.floor(ms / 8)));
}
