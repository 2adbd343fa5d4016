import t from 'tap';
import { ZlibLimiter, zlibLimiter, setZlibConcurrency, DEFAULT_ZLIB_CONCURRENCY } from '../../lib/extensions/zlib-limiter.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { compress, decompress, pair } from './helpers.js';

t.test('FIFO with a cap; release is idempotent', async (t) => {
  const l = new ZlibLimiter(2);
  const started: number[] = [];
  const releases: Array<() => void> = [];
  for (let i = 0; i < 5; i++) l.run((release) => { started.push(i); releases.push(release); });
  t.same(started, [0, 1]);
  t.equal(l.active, 2);
  t.equal(l.waiting, 3);
  releases[0]!();
  releases[0]!();
  await Promise.resolve();
  t.same(started, [0, 1, 2], 'a double release frees one slot only');
  t.equal(l.active, 2);
  l.concurrency = 4;
  t.same(started, [0, 1, 2, 3, 4]);
  for (const r of releases) r();
  t.equal(l.active, 0);
  t.throws(() => new ZlibLimiter(0), InvalidArgumentError);
  t.throws(() => setZlibConcurrency(1.5), InvalidArgumentError);
});

t.test('the process-wide cap holds across many transforms, and everything completes', async (t) => {
  t.equal(zlibLimiter.concurrency, DEFAULT_ZLIB_CONCURRENCY);
  setZlibConcurrency(3);
  t.teardown(() => setZlibConcurrency(DEFAULT_ZLIB_CONCURRENCY));
  const pairs = Array.from({ length: 50 }, () => pair());
  let maxActive = 0;
  const data = Buffer.alloc(64 * 1024, 'abcdefgh');
  const work = pairs.map(async ({ server, client }) => {
    for (let i = 0; i < 3; i++) {
      const p = compress(server, data);
      maxActive = Math.max(maxActive, zlibLimiter.active);
      const out = await decompress(client, await p);
      if (!out!.equals(data)) throw new Error('mismatch');
    }
  });
  await Promise.all(work);
  t.ok(maxActive <= 3, `at most 3 at once (saw ${maxActive})`);
  t.equal(zlibLimiter.active, 0);
  t.equal(zlibLimiter.waiting, 0);
  for (const { server, client } of pairs) { server.dispose(); client.dispose(); }
});

t.test('dispose with work in flight and queued gives the slots back', async (t) => {
  setZlibConcurrency(2);
  t.teardown(() => setZlibConcurrency(DEFAULT_ZLIB_CONCURRENCY));
  const a = pair();
  const fired: string[] = [];
  a.server.compress(Buffer.alloc(1 << 20, 'x'), true, () => fired.push('a1'));
  a.server.compress(Buffer.alloc(10), true, () => fired.push('a2'));
  a.client.decompress(Buffer.from([0xf2, 0x48]), false, () => fired.push('a3'));
  t.equal(zlibLimiter.active, 2, 'both slots taken');
  const deflate = (a.server as any).compressor.stream;
  const inflate = (a.client as any).decompressor.stream;
  t.ok(deflate && inflate, 'zlib contexts exist while busy');
  a.server.dispose();
  a.client.dispose();
  a.server.dispose(); // idempotent
  // Another transform still gets through (it would wait forever on leaked slots).
  const b = pair();
  t.equal((await decompress(b.client, await compress(b.server, 'after')))!.toString(), 'after');
  await new Promise((r) => setTimeout(r, 50));
  t.same(fired, [], 'callbacks of disposed transforms never fire');
  t.equal(zlibLimiter.active, 0);
  t.equal((a.server as any).compressor.stream, null, 'zlib context released');
  for (const z of [deflate, inflate]) {
    t.equal(z.destroyed, true, 'zlib stream destroyed');
    t.equal(z._handle, null, 'native zlib handle closed');
  }
  b.server.dispose(); b.client.dispose();
});
