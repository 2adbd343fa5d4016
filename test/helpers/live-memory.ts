/**
 * Peak growth of live ArrayBuffer memory (Buffers) in this process, sampled after a full garbage
 * collection each time. Without the collection a sample counts garbage V8 has not collected yet,
 * which depends on the collector's timing, not on what the code under test holds.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/** `gc()`, made available in this process if it was started without --expose-gc. */
export function fullGc(): void {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') collect = exposed;
    else {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
  }
  collect();
}

export interface LiveMemorySampler {
  /**
   * Stop sampling (after one last sample). The growth in bytes: the largest rise of a sample over
   * the lowest one before it (the start included), so memory that earlier work still held at the
   * start and released meanwhile neither hides growth nor counts as growth.
   */
  stop(): number;
}

export function sampleLiveArrayBuffers(intervalMs = 50): LiveMemorySampler {
  fullGc();
  let low = process.memoryUsage().arrayBuffers;
  let rise = 0;
  /** Time spent in samples so far, and wall time since the start. */
  let busy = 0;
  const started = performance.now();
  const sample = (): void => {
    const t0 = performance.now();
    fullGc();
    const now = process.memoryUsage().arrayBuffers;
    if (now < low) low = now;
    else if (now - low > rise) rise = now - low;
    busy += performance.now() - t0;
  };
  let stopped = false;
  let timer: NodeJS.Timeout;
  // A full collection of a large heap (a test runner's, say) can take tens of milliseconds: the
  // next sample waits long enough that sampling takes at most a fifth of the time, so the code
  // under test is not starved by its own measurement.
  const next = (): void => {
    const elapsed = performance.now() - started;
    timer = setTimeout(tick, Math.max(intervalMs, busy * 5 - elapsed));
  };
  const tick = (): void => {
    if (stopped) return;
    sample();
    next();
  };
  next();
  return {
    stop() {
      if (!stopped) {
        stopped = true;
        clearTimeout(timer);
        sample();
      }
      return rise;
    },
  };
}
