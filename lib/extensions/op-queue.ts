/**
 * Runs the steps of one direction (compress or decompress) of one connection
 * strictly one after the other, each holding a slot of the process-wide zlib
 * limiter while it runs. One zlib stream is never fed by two steps at once,
 * and callbacks come back in call order.
 */

import { zlibLimiter } from './zlib-limiter.js';

/** One step: do the work, then call `done` exactly once. */
export type Step = (done: () => void) => void;

export class OpQueue {
  private steps: Step[] = [];
  private head = 0;
  private busy = false;
  private closed = false;
  /** Release function of the slot held by the running step, if any. */
  private release: (() => void) | null = null;

  /** Queue a step that needs zlib (waits for a limiter slot). */
  push(step: Step): void {
    if (this.closed) return;
    this.steps.push(step);
    if (!this.busy) this.next();
  }

  /** Drop every queued step and give back the slot of the running one. Idempotent. */
  close(): void {
    this.closed = true;
    this.steps = [];
    this.head = 0;
    const release = this.release;
    this.release = null;
    release?.();
  }

  /** The running step waits on something other than zlib (a full consumer): give its slot back. */
  suspend(): void {
    const release = this.release;
    this.release = null;
    release?.();
  }

  /** Get a slot again for the running step (after suspend), then call `go` (never after close). */
  reacquire(go: () => void): void {
    zlibLimiter.run((release) => {
      if (this.closed) { release(); return; }
      this.release = release;
      go();
    });
  }

  private next(): void {
    if (this.closed || this.head === this.steps.length) {
      this.busy = false;
      this.steps.length = 0;
      this.head = 0;
      return;
    }
    this.busy = true;
    const step = this.steps[this.head]!;
    // Cleared rather than shifted: a long burst of queued steps stays O(1) each;
    // compacted now and then so a queue that never drains does not grow forever.
    (this.steps as Array<Step | undefined>)[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.steps.length) {
      this.steps = this.steps.slice(this.head);
      this.head = 0;
    }
    zlibLimiter.run((release) => {
      if (this.closed) { release(); return; }
      this.release = release;
      let finished = false;
      step(() => {
        if (finished) return;
        finished = true;
        // The slot held now may be a later one (see suspend/reacquire); both releases are idempotent.
        const current = this.release;
        this.release = null;
        release();
        current?.();
        this.next();
      });
    });
  }
}
