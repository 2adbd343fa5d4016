// A decompression bomb must be stopped once the inflated size passes
// maxPayload, with memory bounded; it is never inflated to the end.
import t from 'tap';
import * as zlib from 'node:zlib';
import { PerMessageDeflate } from '../../lib/extensions/permessage-deflate.js';
import { SYNC_INPUT_LIMIT } from '../../lib/extensions/zlib-direction.js';
import { defaultParams, decompress } from './helpers.js';

/**
 * One sync-flushed DEFLATE segment of 4 MiB of zeros (~4 KiB) refers only to
 * itself (distance 1), so N copies back to back are a valid stream inflating to
 * N * 4 MiB: 256 copies = 1 MiB on the wire, 1 GiB inflated.
 */
function bomb(copies: number): { payload: Buffer; segment: Buffer } {
  const segment = zlib.deflateRawSync(Buffer.alloc(4 << 20), { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const payload = Buffer.concat(Array.from({ length: copies }, () => segment));
  return { payload: payload.subarray(0, payload.length - 4), segment };
}

const MiB = 1 << 20;

t.test('the bomb is real (small version inflates as advertised)', async (t) => {
  const { payload, segment } = bomb(4);
  t.ok(segment.length < 8 * 1024, `segment is ${segment.length} bytes`);
  const d = new PerMessageDeflate('server', defaultParams(), { maxPayload: 0 });
  t.equal((await decompress(d, payload))!.length, 16 * MiB, 'no limit: 16 MiB from ' + payload.length + ' bytes');
  d.dispose();
});

t.test('a 1 GiB bomb in one frame is stopped with 1009, memory bounded', async (t) => {
  const { payload } = bomb(256);
  t.ok(payload.length < 1.1 * MiB, `payload ${payload.length} bytes`);
  const before = process.memoryUsage();
  const d = new PerMessageDeflate('server', defaultParams(), { maxPayload: MiB });
  await t.rejects(decompress(d, payload), { code: 'ERR_WS_MESSAGE_TOO_BIG', closeCode: 1009 });
  const after = process.memoryUsage();
  const grew = Math.max(after.rss - before.rss, after.arrayBuffers - before.arrayBuffers);
  t.ok(grew < 64 * MiB, `memory grew ${(grew / MiB).toFixed(1)} MiB`);
  t.equal((d as any).decompressor.stream, null, 'inflater released');
  d.dispose();
});

t.test('a bomb spread over many fragments is stopped with 1009', async (t) => {
  const { payload } = bomb(64);
  const before = process.memoryUsage();
  const d = new PerMessageDeflate('client', defaultParams(), { maxPayload: 8 * MiB });
  const frag = 4096;
  let err: any;
  let i = 0;
  for (; i < payload.length; i += frag) {
    const fin = i + frag >= payload.length;
    err = await decompress(d, payload.subarray(i, i + frag), fin).then(() => null, (e) => e);
    if (err) break;
  }
  t.equal(err?.closeCode, 1009);
  t.ok(i < payload.length / 2, `stopped at fragment offset ${i} of ${payload.length}`);
  const after = process.memoryUsage();
  t.ok(after.rss - before.rss < 64 * MiB, `rss grew ${((after.rss - before.rss) / MiB).toFixed(1)} MiB`);
  d.dispose();
});

t.test('a peer without context takeover: a small bomb leaves the synchronous path at its output cap', async (t) => {
  // One segment: about 4 KiB on the wire (small enough for the synchronous call), 4 MiB inflated.
  const { segment } = bomb(1);
  const payload = segment.subarray(0, segment.length - 4);
  t.ok(payload.length <= SYNC_INPUT_LIMIT, `payload ${payload.length} bytes`);
  const params = defaultParams({ serverNoContextTakeover: true });
  const cases: Array<[number, number | null]> = [
    [0, 4 * MiB], // no limit: the synchronous call stops at its cap, the stream inflates it all
    [MiB, null], // a limit above the cap: the stream stops it with 1009
    [100 * 1024, null], // a limit below the cap: the synchronous call stops it with 1009
  ];
  for (const [maxPayload, length] of cases) {
    const before = process.memoryUsage();
    const d = new PerMessageDeflate('client', params, { maxPayload });
    if (length === null) await t.rejects(decompress(d, payload), { code: 'ERR_WS_MESSAGE_TOO_BIG', closeCode: 1009 }, `maxPayload ${maxPayload}`);
    else t.equal((await decompress(d, payload))!.length, length, `maxPayload ${maxPayload}: all ${length} bytes`);
    const after = process.memoryUsage();
    const grew = Math.max(after.rss - before.rss, after.arrayBuffers - before.arrayBuffers);
    t.ok(grew < 64 * MiB, `maxPayload ${maxPayload}: memory grew ${(grew / MiB).toFixed(1)} MiB`);
    t.equal((d as any).decompressor.stream, null, 'no inflater kept');
    d.dispose();
  }
});
