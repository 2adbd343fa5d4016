/**
 * What the compressing and the inflating halves of permessage-deflate share:
 * one lazily created zlib stream, one step at a time through an OpQueue, zlib
 * output routed to the step in flight, and release/dispose.
 */

import type * as zlib from 'node:zlib';
import { OpQueue, type Step } from './op-queue.js';

export type Callback = (err: Error | null, out?: Buffer) => void;

/**
 * Without context takeover (ours when compressing, the peer's when inflating), a whole message
 * whose input is at most this many bytes is done by one synchronous zlib call on a context of
 * its own: for small messages the thread-pool round trip and the zlib stream cost more than the
 * work (bench/RESULTS.md, "permessage-deflate without context takeover").
 */
export const SYNC_INPUT_LIMIT = 8 * 1024;

type ZlibStream = zlib.DeflateRaw | zlib.InflateRaw;

export abstract class ZlibDirection<Z extends ZlibStream> {
  /** The zlib stream, or null until needed / after release. */
  protected stream: Z | null = null;
  /** Set once a step failed; every later step fails with it. */
  protected failure: Error | null = null;
  protected readonly queue = new OpQueue();
  /** Completion of the step in flight, if any. */
  private current: ((err: Error | null) => void) | null = null;
  private disposed = false;
  /** pauseOutput is in effect. */
  private outPaused = false;
  /** A limiter slot is being waited for (resumeOutput). */
  private slotWanted = false;

  /** Create the zlib stream (extra listeners may be attached here). */
  protected abstract open(): Z;
  /** An output chunk of the step in flight. */
  protected abstract onChunk(chunk: Buffer): void;
  /** The error a zlib failure is reported as. */
  protected abstract mapError(err: Error): Error;

  /** Free the zlib context and drop queued work; pending callbacks never fire. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.current = null;
    this.queue.close();
    this.release();
  }

  /** Queue a step; steps run one at a time, in call order. */
  protected enqueue(step: Step): void {
    this.queue.push(step);
  }

  /**
   * Write `inputs` (the stream must be opened with `flush: Z_SYNC_FLUSH`, so
   * each write is one zlib call that flushes: one threadpool pass per input
   * instead of a write plus a separate flush). `onDone` runs once zlib has
   * emitted all output for them, or with the first error (see {@link fail}).
   */
  protected feed(inputs: readonly Buffer[], onDone: (err: Error | null) => void): void {
    const z = this.stream ?? this.create();
    const finish = (err: Error | null): void => {
      if (this.current !== finish) return;
      if (err === null && this.outPaused) {
        // zlib finished while its output was held: what it buffered belongs to this step.
        this.outPaused = false;
        while (z.read() !== null);
        z.resume();
        if (this.current !== finish) return;
      }
      this.outPaused = false;
      this.current = null;
      onDone(err);
    };
    this.current = finish;
    const last = inputs.length - 1;
    for (let i = 0; i < last; i++) z.write(inputs[i]);
    z.write(inputs[last], () => this.current?.(null));
  }

  /**
   * Hold zlib's output for the step in flight (its consumer is full): zlib stops once its own
   * small readable buffer fills, and the limiter slot is given back meanwhile, so a slow
   * reader never holds up zlib work elsewhere in the process.
   */
  pauseOutput(): void {
    if (this.current === null || this.outPaused || this.stream === null) return;
    this.outPaused = true;
    this.stream.pause();
    if (!this.slotWanted) this.queue.suspend();
  }

  /** Undo pauseOutput once a limiter slot is free again. */
  resumeOutput(): void {
    if (!this.outPaused) return;
    this.outPaused = false;
    if (this.slotWanted) return;
    this.slotWanted = true;
    this.queue.reacquire(() => {
      this.slotWanted = false;
      // Paused again, or the step ended meanwhile: the slot is not needed.
      if (this.outPaused || this.current === null) this.queue.suspend();
      else this.stream?.resume();
    });
  }

  /** End the step in flight with `err` now (e.g. from onChunk). */
  protected fail(err: Error): void {
    this.current?.(err);
  }

  /** Close the zlib stream; the next step opens a fresh one. */
  protected release(): void {
    const z = this.stream;
    if (!z) return;
    this.stream = null;
    z.close();
  }

  private create(): Z {
    const z = this.open();
    z.on('data', (chunk: Buffer) => {
      if (this.stream === z && this.current) this.onChunk(chunk);
    });
    z.on('error', (err: Error) => {
      if (this.stream === z) this.current?.(this.mapError(err));
    });
    this.stream = z;
    return z;
  }
}

/** Complete a step that needed no zlib work, still asynchronously and in order. */
export function completeLater(done: () => void, cb: Callback, err: Error | null, out?: Buffer): void {
  queueMicrotask(() => {
    done();
    if (err) cb(err);
    else cb(null, out);
  });
}
