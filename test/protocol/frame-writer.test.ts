// Header encoding and frame chunks, byte exact.
import t from 'tap';
import { parseFrames } from '../helpers/frames.js';
import { COALESCE_THRESHOLD, encodeFrame, frameHeaderSize, writeFrameHeader } from '../../lib/protocol/frame-writer.js';

t.test('frameHeaderSize', async (t) => {
  const cases: Array<[number, boolean, number]> = [
    [0, false, 2], [125, false, 2], [126, false, 4], [65535, false, 4], [65536, false, 10], [2 ** 40, false, 10],
    [0, true, 6], [125, true, 6], [126, true, 8], [65536, true, 14],
  ];
  for (const [len, masked, size] of cases) t.equal(frameHeaderSize(len, masked), size, `${len} ${masked}`);
});

t.test('writeFrameHeader: length forms, offsets', async (t) => {
  const cases: Array<[number, string]> = [
    [0, '8100'], [1, '8101'], [125, '817d'], [126, '817e007e'], [65535, '817effff'], [65536, '817f0000000000010000'],
    [2 ** 32, '817f0000000100000000'], [2 ** 53 - 1, '817f001fffffffffffff'],
  ];
  for (const [len, hex] of cases) {
    const b = Buffer.alloc(20, 0xee);
    const end = writeFrameHeader(b, 3, 0x81, len, false);
    t.equal(b.subarray(3, end).toString('hex'), hex, `len ${len}`);
    t.equal(b[2], 0xee);
    t.equal(b[end], 0xee);
  }
  const b = Buffer.alloc(14);
  const end = writeFrameHeader(b, 0, 0x82, 300, true);
  t.equal(end, 8);
  t.equal(b.subarray(0, 4).toString('hex'), '82fe012c', 'mask bit set');
});

t.test('encodeFrame chunks', async (t) => {
  const small = Buffer.alloc(COALESCE_THRESHOLD, 1);
  const big = Buffer.alloc(COALESCE_THRESHOLD + 1, 2);
  const a = encodeFrame(0x82, small, false);
  t.equal(a.length, 1);
  t.equal(a[0].length, 4 + small.length);
  const b = encodeFrame(0x82, big, false);
  t.equal(b.length, 2);
  t.equal(b[1], big);
  const c = encodeFrame(0x82, big, true);
  t.equal(c.length, 1, 'client: one buffer');
  t.equal(c[0].length, 8 + big.length);
  t.ok(parseFrames(c[0])[0].payload.equals(big));
  t.ok(big.every((x) => x === 2), 'input untouched');
});

t.test('mask keys: fresh per frame, across pool refills', async (t) => {
  const seen = new Set<string>();
  let zero = 0;
  // 5000 frames cross the 8 KiB key pool several times.
  for (let i = 0; i < 5000; i++) {
    const f = encodeFrame(0x81, Buffer.from('x'), true)[0];
    const k = f.subarray(2, 6).toString('hex');
    if (k === '00000000') zero++;
    seen.add(k);
  }
  t.ok(seen.size >= 4990, `distinct keys ${seen.size}`);
  t.ok(zero <= 1);
});
