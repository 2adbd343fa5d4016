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
  const sample = (): void => {
    fullGc();
    const now = process.memoryUsage().arrayBuffers;
    if (now < low) low = now;
    else if (now - low > rise) rise = now - low;
  };
  const timer = setInterval(sample, intervalMs);
  let stopped = false;
  return {
    stop() {
      if (!stopped) {
        stopped = true;
        clearInterval(timer);
        sample();
      }
      return rise;
    },
  };
}
