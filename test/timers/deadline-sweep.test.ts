// Handshake deadlines on one shared interval (lib/timers.ts DeadlineSweep), on a manual clock:
// a member never expires before its deadline, at most one period after it, exactly once, and
// the interval runs only while a member is pending.
import t from 'tap';
import { DeadlineSweep, sweepPeriod } from '../../lib/timers.js';
import { ManualClock } from '../helpers/manual-clock.js';

function member(name: string, expiresAt: number, log: string[]) {
  return { expiresAt, expire: () => log.push(name) };
}

t.test('sweep period: an eighth of the deadline, 1 ms to 1 s', async (t) => {
  t.equal(sweepPeriod(10_000), 1000);
  t.equal(sweepPeriod(60_000), 1000);
  t.equal(sweepPeriod(800), 100);
  t.equal(sweepPeriod(5), 1);
});

t.test('members expire once, not before their deadline, at most a period after it', async (t) => {
  const clock = new ManualClock();
  const log: string[] = [];
  const sweep = new DeadlineSweep(100, clock);
  const t0 = clock.now();
  t.equal(clock.active, 0, 'no interval while empty');
  sweep.add(member('a', t0 + 800, log));
  sweep.add(member('b', t0 + 850, log));
  t.equal(clock.active, 1, 'one interval for every member');
  clock.advance(799);
  t.same(log, [], 'nothing before the deadline');
  clock.advance(1);
  t.same(log, ['a'], 'a: expired at the visit on its deadline');
  clock.advance(99);
  t.same(log, ['a'], 'b (due at 850) not yet: the next visit is at 900');
  clock.advance(1);
  t.same(log, ['a', 'b'], 'b: 50 ms late, within one period; each once');
  t.equal(sweep.size, 0);
  t.equal(clock.active, 0, 'the interval stops with its last member');
  clock.advance(10_000);
  t.same(log, ['a', 'b'], 'never again');
});

t.test('a member deleted before its deadline never expires; a deadline already past expires at the next visit', async (t) => {
  const clock = new ManualClock();
  const log: string[] = [];
  const sweep = new DeadlineSweep(50, clock);
  const settled = member('settled', clock.now() + 200, log);
  sweep.add(settled);
  sweep.add(member('late', clock.now() - 1, log));
  sweep.delete(settled);
  t.equal(clock.active, 1, 'still one pending');
  clock.advance(50);
  t.same(log, ['late'], 'past deadline: expired at the first visit');
  t.equal(clock.active, 0);
  clock.advance(1000);
  t.same(log, ['late'], 'the deleted member never expired');
});

t.test('a member that expires while others are pending leaves them on the schedule', async (t) => {
  const clock = new ManualClock();
  const log: string[] = [];
  const sweep = new DeadlineSweep(10, clock);
  for (let i = 0; i < 100; i++) sweep.add(member(`m${i}`, clock.now() + 10 * (i + 1), log));
  clock.advance(500);
  t.equal(log.length, 50, 'the first half expired');
  t.same(log.slice(0, 3), ['m0', 'm1', 'm2'], 'in deadline order here');
  clock.advance(500);
  t.equal(log.length, 100);
  t.equal(clock.active, 0);
});
