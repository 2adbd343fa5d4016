/**
 * A process-wide cap on zlib operations in flight. Every compress/decompress
 * step holds a slot while zlib works on it in the libuv threadpool; beyond the
 * cap, steps wait in a FIFO. Thousands of connections compressing at once then
 * cost a queue entry each instead of output buffers and threadpool work items
 * (which would also starve fs and dns, sharing the same 4 threads).
 */

import { InvalidArgumentError } from '../errors.js';

/** Default number of zlib operations running at once across the process. */
export const DEFAULT_ZLIB_CONCURRENCY = 10;

type Job = (release: () => void) => void;

/** FIFO semaphore; a job runs once it gets a slot and must call `release` once (extra calls are ignored). */
export class ZlibLimiter {
  private limit: number;
  private running = 0;
  private queue: Array<Job | undefined> = [];
  private head = 0;

  constructor(limit = DEFAULT_ZLIB_CONCURRENCY) {
    this.limit = checkLimit(limit);
  }

  /** Operations currently holding a slot. */
  get active(): number { return this.running; }
  /** Operations waiting for a slot. */
  get waiting(): number { return this.queue.length - this.head; }
  get concurrency(): number { return this.limit; }

  set concurrency(limit: number) {
    this.limit = checkLimit(limit);
    this.drain();
  }

  /** Run `job` now if a slot is free, otherwise once one frees up (FIFO). */
  run(job: Job): void {
    this.queue.push(job);
    this.drain();
  }

  private drain(): void {
    while (this.running < this.limit && this.head < this.queue.length) {
      const job = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.running++;
      let released = false;
      job(() => {
        if (released) return;
        released = true;
        this.running--;
        // Deferred so a job releasing synchronously cannot recurse without bound.
        if (this.waiting > 0) queueMicrotask(() => this.drain());
      });
    }
  }
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(`zlib concurrency must be an integer >= 1, got ${String(limit)}`);
  }
  return limit;
}

/** The limiter shared by every PerMessageDeflate in the process. */
export const zlibLimiter = new ZlibLimiter();

/**
 * Change the process-wide cap on concurrent zlib operations (default
 * {@link DEFAULT_ZLIB_CONCURRENCY}). Takes effect for queued work at once.
 * @throws InvalidArgumentError unless an integer >= 1.
 */
export function setZlibConcurrency(limit: number): void {
  zlibLimiter.concurrency = limit;
}
