// Keepalive and idle deadlines on a manual clock: exact times, no waiting.
import t from 'tap';
import { once } from 'node:events';
import { Liveness, tickPeriod } from '../../lib/timers.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { pipePair } from '../helpers/pipe-pair.js';

function owner() {
  const calls: string[] = [];
  return { calls, o: { keepAlivePing: () => calls.push('ping'), keepAliveExpired: () => calls.push('dead'), idleExpired: () => calls.push('idle') } };
}

t.test('tick period: a quarter of the shortest duration in use', async (t) => {
  t.equal(tickPeriod(30_000, 30_000, 0), 7_500);
  t.equal(tickPeriod(0, 0, 0), 0);
  t.equal(tickPeriod(0, 0, 1000), 250);
  t.equal(tickPeriod(2, 0, 0), 1);
});

t.test('keepalive: a ping every interval; a peer that sends something keeps the connection', async (t) => {
  const clock = new ManualClock();
  const { calls, o } = owner();
  const l = new Liveness(o, { keepAliveInterval: 1000, keepAliveTimeout: 1000, idleTimeout: 0 }, clock);
  clock.advance(999);
  t.same(calls, [], 'no ping before the interval');
  clock.advance(1);
  t.same(calls, ['ping']);
  l.seen = true;
  clock.advance(1000);
  t.same(calls, ['ping', 'ping'], 'the peer answered: next ping, no expiry');
  l.seen = true;
  clock.advance(1000);
  t.same(calls, ['ping', 'ping', 'ping']);
  l.stop();
  t.equal(clock.active, 0, 'the shared ticker stops with its last member');
});

t.test('keepalive: silence for keepAliveTimeout after a ping expires the peer, once', async (t) => {
  const clock = new ManualClock();
  const { calls, o } = owner();
  new Liveness(o, { keepAliveInterval: 1000, keepAliveTimeout: 400, idleTimeout: 0 }, clock);
  clock.advance(1000);
  t.same(calls, ['ping']);
  clock.advance(300);
  t.same(calls, ['ping'], 'not yet');
  clock.advance(100);
  t.same(calls, ['ping', 'dead']);
  clock.advance(5000);
  t.same(calls, ['ping', 'dead'], 'expired connections are visited no more');
  t.equal(clock.active, 0);
});

t.test('idle timeout: fires after idleTimeout without a data message; activity postpones it', async (t) => {
  const clock = new ManualClock();
  const { calls, o } = owner();
  const l = new Liveness(o, { keepAliveInterval: 0, keepAliveTimeout: 0, idleTimeout: 1000 }, clock);
  clock.advance(750);
  l.active = true;
  clock.advance(750);
  t.same(calls, [], 'activity at 750 ms moved the deadline');
  clock.advance(1000);
  t.same(calls, ['idle']);
  l.stop();
});

t.test('members with the same period share one interval', async (t) => {
  const clock = new ManualClock();
  const a = new Liveness(owner().o, { keepAliveInterval: 1000, keepAliveTimeout: 1000, idleTimeout: 0 }, clock);
  const b = new Liveness(owner().o, { keepAliveInterval: 1000, keepAliveTimeout: 1000, idleTimeout: 0 }, clock);
  const c = new Liveness(owner().o, { keepAliveInterval: 2000, keepAliveTimeout: 2000, idleTimeout: 0 }, clock);
  t.equal(clock.active, 2);
  a.stop();
  b.stop();
  t.equal(clock.active, 1);
  c.stop();
  t.equal(clock.active, 0);
});

t.test('a WebSocket on a manual clock: keepalive pings on the wire, a silent peer is terminated with 1006', async (t) => {
  const clock = new ManualClock();
  const { server, client } = pipePair({ clock, server: { keepAliveInterval: 1000, keepAliveTimeout: 500 } });
  await once(server, 'open');
  const ping = once(client, 'ping');
  clock.advance(1000);
  t.same((await ping)[0], Buffer.alloc(0), 'an empty keepalive ping reached the client');
  // The client's automatic pong counts as life.
  await new Promise((r) => setTimeout(r, 20));
  clock.advance(1000);
  t.equal(server.readyState, server.OPEN, 'answered: still open');
  // A client that stops reading answers nothing: the next deadline expires.
  client.pause();
  clock.advance(1000);
  clock.advance(500);
  const [code, reason, wasClean] = await once(server, 'close');
  t.same([code, wasClean], [1006, false]);
  t.match(reason, /keepalive timeout/);
});

t.test('Liveness.start: no object and no ticker when keepalive and idle timeout are both off', async (t) => {
  const clock = new ManualClock();
  t.equal(Liveness.start(owner().o, { keepAliveInterval: 0, keepAliveTimeout: 0, idleTimeout: 0 }, clock), null);
  t.equal(clock.active, 0);
  const l = Liveness.start(owner().o, { keepAliveInterval: 0, keepAliveTimeout: 0, idleTimeout: 500 }, clock);
  t.type(l, Liveness);
  t.equal(clock.active, 1);
  l!.stop();
});
