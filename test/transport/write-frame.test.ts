// SocketTransport.writeFrame: small frames encoded straight into the tick's batch (a run in a
// shared slab) must leave as exactly the bytes of encodeFrame, in call order with write(), for
// transports whose runs interleave in one tick, across a slab that fills up, masked or not, and
// without touching the caller's payload.
import t from 'tap';
import { pairs, until, type Test } from '../helpers/socket-transports.js';
import { encodeFrame } from '../../lib/protocol/frame-writer.js';
import { unmask } from '../../lib/protocol/mask.js';

/** Decode frames from `wire`: [b0, payload (unmasked)] each; the mask bit must be `masked`. */
function decode(t: Test, wire: Buffer, masked: boolean): Array<[number, Buffer]> {
  const frames: Array<[number, Buffer]> = [];
  let i = 0;
  while (i < wire.length) {
    const b0 = wire[i]!;
    const b1 = wire[i + 1]!;
    t.equal((b1 & 0x80) !== 0, masked, 'mask bit');
    let len = b1 & 0x7f;
    i += 2;
    if (len === 126) { len = wire.readUInt16BE(i); i += 2; } else if (len === 127) { len = Number(wire.readBigUInt64BE(i)); i += 8; }
    let key: Buffer | null = null;
    if (masked) { key = wire.subarray(i, i + 4); i += 4; }
    const payload = Buffer.from(wire.subarray(i, i + len));
    if (key) unmask(payload, 0, len, key, 0, 0);
    frames.push([b0, payload]);
    i += len;
  }
  return frames;
}

const payload = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, k) => (k * 31 + seed) & 0xff));

t.test('unmasked: interleaved runs on three transports, write() between frames, sizes across every length form', async (t) => {
  const ps = await pairs(t, 3);
  const sizes = [0, 1, 31, 32, 33, 125, 126, 1000, 4090, 4092, 5000, 70_000];
  const expected: Buffer[][] = ps.map(() => []);
  const inputs: Array<[Buffer, Buffer]> = [];
  for (let round = 0; round < 3; round++) {
    for (const size of sizes) {
      ps.forEach((p, i) => {
        const data = payload(size, i * 7 + round);
        const copy = Buffer.from(data);
        inputs.push([data, copy]);
        p.transport.writeFrame(0x82, data, false);
        expected[i]!.push(...encodeFrame(0x82, data, false).map((c) => Buffer.from(c)));
        if (size === 125) {
          // A chunk written with write() between two frames keeps its place.
          const raw = encodeFrame(0x81, Buffer.from(`between ${i}`), false);
          p.transport.write(raw);
          expected[i]!.push(...raw.map((c) => Buffer.from(c)));
        }
      });
    }
  }
  const want = expected.map((e) => Buffer.concat(e));
  ps.forEach((p, i) => t.equal(p.transport.writableLength, want[i]!.length, 'everything written this tick is counted'));
  await until(() => ps.every((p, i) => p.got().length >= want[i]!.length));
  ps.forEach((p, i) => t.ok(p.got().equals(want[i]!), `transport ${i}: the exact bytes of encodeFrame, in call order`));
  t.ok(inputs.every(([d, c]) => d.equals(c)), 'no payload was modified');
});

t.test('masked (client role): each frame unmasks to its payload, with a key of its own', async (t) => {
  const [p] = await pairs(t, 1);
  const sent: Buffer[] = [];
  for (let k = 0; k < 200; k++) {
    const data = payload(k * 3, k);
    sent.push(data);
    p!.transport.writeFrame(0x81, data, true);
  }
  const total = sent.reduce((n, d) => n + d.length + (d.length < 126 ? 6 : 8), 0);
  await until(() => p!.got().length >= total);
  const frames = decode(t, p!.got(), true);
  t.equal(frames.length, 200);
  frames.forEach(([b0, data], k) => { if (b0 !== 0x81 || !data.equals(sent[k]!)) t.fail(`frame ${k} differs`); });
  const keys = new Set<string>();
  let i = 0;
  for (const d of sent) { const hs = d.length < 126 ? 2 : 4; keys.add(p!.got().subarray(i + hs, i + hs + 4).toString('hex')); i += hs + 4 + d.length; }
  t.ok(keys.size > 190, 'fresh mask keys');
});

t.test('more small frames in one tick than one slab holds, over several transports and ticks', async (t) => {
  const ps = await pairs(t, 4);
  const want: Buffer[][] = ps.map(() => []);
  for (let tick = 0; tick < 3; tick++) {
    // 4 transports x 60 frames x ~1 KiB: several slabs' worth in one tick, runs interleaved.
    for (let k = 0; k < 60; k++) {
      ps.forEach((p, i) => {
        const data = payload(1000 + k, tick * 100 + i);
        p.transport.writeFrame(0x82, data, false);
        want[i]!.push(Buffer.from(encodeFrame(0x82, data, false)[0]!));
      });
    }
    await new Promise((r) => setImmediate(r));
  }
  const all = want.map((w) => Buffer.concat(w));
  await until(() => ps.every((p, i) => p.got().length >= all[i]!.length));
  ps.forEach((p, i) => t.ok(p.got().equals(all[i]!), `transport ${i}: exact bytes`));
});

t.test('end() in the same tick sends the frames encoded in place before the FIN', async (t) => {
  const [p] = await pairs(t, 1);
  const a = payload(10, 1);
  const b = payload(3000, 2);
  p!.transport.writeFrame(0x81, a, false);
  p!.transport.writeFrame(0x82, b, false);
  p!.transport.end();
  const want = Buffer.concat([...encodeFrame(0x81, a, false), ...encodeFrame(0x82, b, false)]);
  await until(() => p!.got().length >= want.length);
  t.ok(p!.got().equals(want));
});
