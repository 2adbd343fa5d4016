// serve's log of failed broker operations, with the summary timer in the test's hands: the first
// failure of an outage in full at once, the rest counted into one line per period, one line when
// an operation goes through again, and a new outage starting over.
import t from 'tap';
import { BrokerFailureLog, type Schedule } from '../../lib/cli/broker-log.js';
import { BrokerError } from '../../lib/pubsub/broker-error.js';

function setup(): { lines: string[]; failures: BrokerFailureLog; timers: { fn: () => void; ms: number; cancelled: boolean }[]; fire(): void } {
  const lines: string[] = [];
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const schedule: Schedule = (fn, ms) => {
    const timer = { fn, ms, cancelled: false };
    timers.push(timer);
    return () => void (timer.cancelled = true);
  };
  const fire = (): void => {
    const live = timers.filter((x) => !x.cancelled);
    timers.length = 0;
    for (const x of live) x.fn();
  };
  return { lines, failures: new BrokerFailureLog((l) => lines.push(l), 1000, schedule), timers, fire };
}

const down = (n: number): BrokerError =>
  BrokerError.failed('publish', 'room', new BrokerError('ERR_WS_BROKER_UNAVAILABLE', `Redis is not connected (${n})`));

t.test('first failure in full, then one summary per period, then recovery once', async (t) => {
  const { lines, failures, timers, fire } = setup();
  failures.success('publish on topic "room"');
  t.same(lines, [], 'a success outside an outage logs nothing');

  failures.failure(down(1));
  t.same(lines, ['broker error ERR_WS_BROKER_UNAVAILABLE: broker publish on topic "room" failed: Redis is not connected (1)']);
  t.same(timers, [], 'no timer for the first');
  for (let i = 2; i <= 500; i++) failures.failure(down(i));
  t.equal(lines.length, 1, '499 more failures before the period ends: no line yet');
  t.equal(timers.length, 1, 'one timer for all of them');
  t.equal(timers[0]!.ms, 1000);
  fire();
  t.same(lines.slice(1), ['broker error ERR_WS_BROKER_UNAVAILABLE: 499 more failed (500 in this outage), the last: broker publish on topic "room" failed: Redis is not connected (500)']);
  fire();
  t.equal(lines.length, 2, 'a period without failures writes nothing');

  failures.failure(down(501));
  failures.failure(down(502));
  failures.success('publish on topic "room"');
  t.same(lines.slice(2), ['broker recovered: publish on topic "room" went through, after 502 failed operations'], 'the counted-but-unsummarised two are in the total');
  t.ok(timers.every((x) => x.cancelled), 'the pending summary was cancelled');
  failures.success('publish on topic "room"');
  t.equal(lines.length, 3, 'recovery is logged once');

  failures.failure(down(1));
  failures.success('subscribe to topic "room"');
  t.same(lines.slice(3), [
    'broker error ERR_WS_BROKER_UNAVAILABLE: broker publish on topic "room" failed: Redis is not connected (1)',
    'broker recovered: subscribe to topic "room" went through, after 1 failed operation',
  ], 'a new outage starts over with a full line');
});
