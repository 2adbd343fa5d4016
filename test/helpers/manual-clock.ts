import type { Clock } from '../../lib/timers.js';

/** A clock that moves only when told: advance(ms) runs every interval due on the way. */
export class ManualClock implements Clock {
  private t = 1_000_000;
  private timers = new Map<number, { fn: () => void; every: number; next: number }>();
  private ids = 0;

  now(): number {
    return this.t;
  }

  setInterval(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.timers.set(id, { fn, every: ms, next: this.t + ms });
    return id;
  }

  clearInterval(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Intervals currently scheduled. */
  get active(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let due: { fn: () => void; every: number; next: number } | undefined;
      for (const timer of this.timers.values()) if (timer.next <= end && (due === undefined || timer.next < due.next)) due = timer;
      if (due === undefined) break;
      this.t = due.next;
      due.next += due.every;
      due.fn();
    }
    this.t = end;
  }
}
