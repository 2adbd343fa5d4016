// SocketTransport's per-tick batching over real sockets: what is written in one tick is held
// (counted in writableLength) and leaves on the next, for every transport written in that tick,
// in write order across small and large chunks; end() sends what was held before the FIN.
import t from 'tap';
import { pairs, until } from '../helpers/socket-transports.js';

const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);

t.test('writes of one tick on many transports are held, then all leave on the next tick, in order', async (t) => {
  const ps = await pairs(t, 3);
  const large = bytes(10_000, 0x4c);
  const expected: Buffer[] = [];
  ps.forEach((p, i) => {
    const a = bytes(10, 0x61 + i);
    const b = bytes(20, 0x41 + i);
    // small, large (above the gathering size), small, small: the order must survive the gathering.
    p.transport.write([a]);
    p.transport.write([large]);
    p.transport.write([b, a]);
    expected.push(Buffer.concat([a, large, b, a]));
  });
  for (const p of ps) t.equal(p.transport.writableLength, 10_040, 'held until the next tick, counted as buffered');
  await new Promise<void>((r) => process.nextTick(r));
  await new Promise<void>((r) => setImmediate(r));
  for (const p of ps) t.equal(p.transport.writableLength, 0, 'handed to the kernel after the tick');
  await until(() => ps.every((p, i) => p.got().length >= expected[i]!.length));
  ps.forEach((p, i) => t.same(p.got(), expected[i], `transport ${i}: exact bytes in write order`));
  // A later tick is batched again.
  ps[0]!.transport.write([bytes(5, 0x7a)]);
  t.equal(ps[0]!.transport.writableLength, 5);
  await until(() => ps[0]!.got().length >= expected[0]!.length + 5);
  t.same(ps[0]!.got().subarray(expected[0]!.length), bytes(5, 0x7a));
});

t.test("a publish's large first chunk of a tick goes to the socket at once; what follows in the tick still leaves after it, in order", async (t) => {
  const [p] = await pairs(t, 1);
  const batch = bytes(5_000, 0x62);
  const small = bytes(7, 0x73);
  const large = bytes(6_000, 0x6c);
  p!.transport.write([batch], true);
  t.equal(p!.transport.writableLength, 0, 'not held for the tick: the kernel took it');
  p!.transport.write([small]);
  p!.transport.write([large]);
  t.equal(p!.transport.writableLength, 6_007, 'later writes of the tick are held as before');
  // Shared only for the tick's first write: a second shared chunk waits behind the held ones.
  p!.transport.write([batch], true);
  t.equal(p!.transport.writableLength, 11_007, 'a shared chunk after others waits in order');
  const expected = Buffer.concat([batch, small, large, batch]);
  await until(() => p!.got().length >= expected.length);
  t.same(p!.got(), expected, 'exact bytes in write order');
});

t.test('only small frames: they leave as one write on the next tick; end() in the same tick sends them before the FIN', async (t) => {
  const [p] = await pairs(t, 1);
  const parts = [bytes(3, 1), bytes(4, 2), bytes(5, 3)];
  for (const c of parts) p!.transport.write([c]);
  t.equal(p!.transport.writableLength, 12);
  p!.transport.end();
  await p!.ended;
  t.same(p!.got(), Buffer.concat(parts));
});

t.test('the same frames on many transports in one tick: each gets exactly them; a later tick sees their bytes as they are then', async (t) => {
  const ps = await pairs(t, 4);
  const x = bytes(100, 0x78);
  const y = bytes(200, 0x79);
  // Three transports gather the same two buffers (one publish), the fourth them in the other order
  // (written first, so the last flushed in the tick holds [x, y]).
  ps[3]!.transport.write([y]);
  ps[3]!.transport.write([x]);
  for (const p of ps.slice(0, 3)) { p.transport.write([x]); p.transport.write([y]); }
  await until(() => ps.every((p) => p.got().length >= 300));
  for (const p of ps.slice(0, 3)) t.same(p.got(), Buffer.concat([x, y]));
  t.same(ps[3]!.got(), Buffer.concat([y, x]), 'another order is its own concatenation');
  // Next tick: the same buffer objects, changed in place, must go out as they are now.
  x.fill(0x58);
  ps[0]!.transport.write([x]);
  ps[0]!.transport.write([y]);
  ps[1]!.transport.write([x]);
  ps[1]!.transport.write([y]);
  await until(() => ps[0]!.got().length >= 600 && ps[1]!.got().length >= 600);
  for (const p of ps.slice(0, 2)) t.same(p.got().subarray(300), Buffer.concat([bytes(100, 0x58), y]), 'not the previous tick\'s copy');
});
