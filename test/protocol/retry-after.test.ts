import t from 'tap';
import { InvalidArgumentError } from '../../lib/errors.js';
import { MAX_CLOSE_REASON_BYTES } from '../../lib/protocol/close.js';
import { parseRetryAfter, withRetryAfter } from '../../lib/protocol/retry-after.js';

t.test('parseRetryAfter reads the token alone or as one word of a reason', async (t) => {
  t.equal(parseRetryAfter('retry-after=30'), 30);
  t.equal(parseRetryAfter('retry-after=0'), 0);
  t.equal(parseRetryAfter('Retry-After=7'), 7, 'the name without regard to case');
  t.equal(parseRetryAfter('deploy in progress; retry-after=45'), 45);
  t.equal(parseRetryAfter('retry-after=12, see status page'), 12);
  t.equal(parseRetryAfter('restart retry-after=5 soon'), 5);
  t.equal(parseRetryAfter('retry-after=999999999'), 999_999_999, '9 digits');
  t.equal(parseRetryAfter('retry-after=x retry-after=3'), 3, 'a malformed token is skipped, the next one read');
});

t.test('parseRetryAfter finds nothing in reasons without a well-formed token', async (t) => {
  for (const reason of [
    '',
    'Server shutting down',
    'retry-after=',
    'retry-after=-1',
    'retry-after=1.5',
    'retry-after=30s',
    'retry-after= 30',
    'retry-after:30',
    'noretry-after=30',
    'retry-after=1000000000',
    'retry_after=30',
  ]) {
    t.equal(parseRetryAfter(reason), undefined, JSON.stringify(reason));
  }
  t.equal(parseRetryAfter(undefined as unknown as string), undefined, 'not a string');
});

t.test('withRetryAfter appends the token; parseRetryAfter reads it back', async (t) => {
  t.equal(withRetryAfter('', 30), 'retry-after=30');
  t.equal(withRetryAfter('Service restart', 5), 'Service restart retry-after=5');
  t.equal(parseRetryAfter(withRetryAfter('a; b', 17)), 17);
  t.ok(Buffer.byteLength(withRetryAfter('', 999_999_999)) <= MAX_CLOSE_REASON_BYTES);
  for (const bad of [-1, 1.5, NaN, 1e9, '3' as unknown as number]) {
    t.throws(() => withRetryAfter('', bad), InvalidArgumentError, String(bad));
  }
});

t.test('linear on a long hostile reason', async (t) => {
  const reason = 'retry-after=x'.repeat(10_000) + ' retry-after=9';
  t.equal(parseRetryAfter(reason), 9);
});
