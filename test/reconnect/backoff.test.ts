// The backoff window and its jitter as pure functions: exact values at the edges.
import t from 'tap';
import { DEFAULT_BACKOFF, backoffWindow, jitter } from '../../lib/reconnect/backoff.js';

t.test('the window doubles from baseDelay up to maxDelay', async (t) => {
  const o = { ...DEFAULT_BACKOFF, baseDelay: 100, maxDelay: 1000 };
  t.same([1, 2, 3, 4, 5, 6, 40].map((a) => backoffWindow(o, a)), [100, 200, 400, 800, 1000, 1000, 1000]);
  t.same([1, 2, 3, 10].map((a) => backoffWindow(DEFAULT_BACKOFF, a)), [1000, 2000, 4000, 30_000], 'defaults: 1 s doubling to 30 s');
});

t.test('full jitter: a uniform draw in [0, window), whole ms', async (t) => {
  t.equal(jitter(1000, () => 0), 0);
  t.equal(jitter(1000, () => 0.5), 500);
  t.equal(jitter(1000, () => 0.999_999_9), 999, 'never the window itself');
  t.equal(jitter(0, () => 0.7), 0);
});

t.test('1012 and 1013: at least restartDelay, a retry-after hint sets the window, capped by maxRetryAfter', async (t) => {
  const o = { ...DEFAULT_BACKOFF, baseDelay: 100, maxDelay: 100_000, restartDelay: 5000, maxRetryAfter: 60_000 };
  t.equal(backoffWindow(o, 1, 1012), 5000);
  t.equal(backoffWindow(o, 1, 1013), 5000);
  t.equal(backoffWindow(o, 8, 1012), 12_800, 'the exponential window when it is longer');
  t.equal(backoffWindow(o, 20, 1012), 60_000, 'capped');
  t.equal(backoffWindow(o, 1, 1012, 'retry-after=2'), 2000);
  t.equal(backoffWindow(o, 9, 1013, 'overloaded; retry-after=3'), 3000, 'the hint replaces the exponential window');
  t.equal(backoffWindow(o, 1, 1012, 'retry-after=600'), 60_000, 'a hint beyond maxRetryAfter is capped');
  t.equal(backoffWindow(o, 1, 1012, 'retry-after=999999999'), 60_000, 'the largest hint the format allows is capped too');
  t.equal(backoffWindow(o, 1, 1001, 'retry-after=2'), 100, 'a hint on another code is ignored');
  t.equal(backoffWindow(o, 1, 1006), 100);
});

