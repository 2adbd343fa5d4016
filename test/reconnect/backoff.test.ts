// The backoff window and its jitter as pure functions: exact values at the edges.
import t from 'tap';
import { DEFAULT_BACKOFF, backoffWindow, jitter, slotDelay } from '../../lib/reconnect/backoff.js';

t.test('the window: firstDelay, then baseDelay doubling up to maxDelay', async (t) => {
  const o = { ...DEFAULT_BACKOFF, firstDelay: 50, baseDelay: 100, maxDelay: 1000 };
  t.same([1, 2, 3, 4, 5, 6, 7, 40].map((a) => backoffWindow(o, a)), [50, 100, 200, 400, 800, 1000, 1000, 1000]);
  t.same([1, 2, 3, 10].map((a) => backoffWindow(DEFAULT_BACKOFF, a)), [1000, 3000, 6000, 30_000], 'defaults: 1 s, then 3 s doubling to 30 s');
  t.equal(backoffWindow({ ...o, firstDelay: 5000 }, 1), 1000, 'capped by maxDelay too');
});

t.test('slots: the jittered point of the slot after the loss, or from now once the slot has passed', async (t) => {
  t.equal(slotDelay(0, 1000, 0, () => 0.5), 500, 'the first slot starts at the loss');
  t.equal(slotDelay(1000, 3000, 500, () => 0.5), 2000, 'slot [1000, 4000): its midpoint 2500 is 2000 ms after a failure at 500');
  t.equal(slotDelay(1000, 3000, 2500, () => 0.5), 0, 'exactly at the point');
  t.equal(slotDelay(1000, 3000, 2501, () => 0.5), 1500, 'past the point (a slow attempt): the draw counts from now');
  t.equal(slotDelay(1000, 3000, 999, () => 0), 1, 'the slot start itself');
});

t.test('full jitter: a uniform draw in [0, window), whole ms', async (t) => {
  t.equal(jitter(1000, () => 0), 0);
  t.equal(jitter(1000, () => 0.5), 500);
  t.equal(jitter(1000, () => 0.999_999_9), 999, 'never the window itself');
  t.equal(jitter(0, () => 0.7), 0);
});

t.test('1012 and 1013: at least restartDelay, a retry-after hint sets the window, capped by maxRetryAfter', async (t) => {
  const o = { ...DEFAULT_BACKOFF, firstDelay: 100, baseDelay: 100, maxDelay: 100_000, restartDelay: 5000, maxRetryAfter: 60_000 };
  t.equal(backoffWindow(o, 1, 1012), 5000);
  t.equal(backoffWindow(o, 1, 1013), 5000);
  t.equal(backoffWindow(o, 8, 1012), 6400, 'the exponential window when it is longer');
  t.equal(backoffWindow(o, 20, 1012), 60_000, 'capped');
  t.equal(backoffWindow(o, 1, 1012, 'retry-after=2'), 2000);
  t.equal(backoffWindow(o, 9, 1013, 'overloaded; retry-after=3'), 3000, 'the hint replaces the exponential window');
  t.equal(backoffWindow(o, 1, 1012, 'retry-after=600'), 60_000, 'a hint beyond maxRetryAfter is capped');
  t.equal(backoffWindow(o, 1, 1012, 'retry-after=999999999'), 60_000, 'the largest hint the format allows is capped too');
  t.equal(backoffWindow(o, 1, 1001, 'retry-after=2'), 100, 'a hint on another code is ignored');
  t.equal(backoffWindow(o, 1, 1006), 100);
});

