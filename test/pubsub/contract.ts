// The Broker contract (lib/pubsub/broker.ts) as tests, run against every implementation over
// real processes. "Nothing else arrived" is shown without waiting on a clock: messages from one
// publisher arrive in order, so a message sent after the one that must not arrive comes first.
import { randomBytes } from 'node:crypto';
import type t from 'tap';
import type { Broker } from '../../lib/pubsub/broker.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

/** What the contract runs on: two brokers in two processes, and how many brokers are subscribed to a topic. */
export interface ContractSetup {
  a: Broker;
  b: Broker;
  subscribers(topic: string): Promise<number>;
}

/** Collects what a listener gets; `until(n)` waits for the n-th message. */
export class Inbox {
  readonly got: Buffer[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  readonly listener = (bytes: Buffer): void => {
    this.got.push(bytes);
    this.waiters = this.waiters.filter((w) => (w.n <= this.got.length ? (w.resolve(), false) : true));
  };
  until(n: number): Promise<Buffer[]> {
    if (this.got.length >= n) return Promise.resolve(this.got);
    return new Promise((resolve) => this.waiters.push({ n, resolve: () => resolve(this.got) }));
  }
}

const text = (bufs: Buffer[]): string[] => bufs.map((b) => b.toString());

/** Every point of the contract; `setup` gives fresh topics no other test uses. `b` is closed at the end. */
export function brokerContract(t: Test, s: ContractSetup): void {
  const { a, b } = s;

  t.test('publish reaches every subscriber once, the publishing broker included', async (t) => {
    const atA = new Inbox();
    const atB = new Inbox();
    await a.subscribe('reach', atA.listener);
    await b.subscribe('reach', atB.listener);
    t.equal(await s.subscribers('reach'), 2);
    await a.publish('reach', Buffer.from('from a'));
    await a.publish('reach', Buffer.from('end a'));
    t.same(text(await atB.until(2)), ['from a', 'end a'], 'the other broker, once each, in order');
    t.same(text(await atA.until(2)), ['from a', 'end a'], 'the publishing broker too');
    await b.publish('reach', Buffer.from('from b'));
    t.same(text(await atA.until(3)), ['from a', 'end a', 'from b'], 'either way');
    t.same(text(await atB.until(3)), ['from a', 'end a', 'from b']);
  });

  t.test('per topic: a subscriber gets its topics only', async (t) => {
    const x = new Inbox();
    await b.subscribe('topic-x', x.listener);
    await a.publish('topic-y', Buffer.from('not for x'));
    await a.publish('topic-x', Buffer.from('for x'));
    t.same(text(await x.until(1)), ['for x']);
    t.equal(await s.subscribers('topic-y'), 0);
    await b.unsubscribe('topic-x');
  });

  t.test('unsubscribe stops delivery; unknown topics are a no-op', async (t) => {
    const u = new Inbox();
    const end = new Inbox();
    await b.subscribe('unsub', u.listener);
    await b.subscribe('unsub-end', end.listener);
    await a.publish('unsub', Buffer.from('m1'));
    await a.publish('unsub-end', Buffer.from('e1'));
    await end.until(1);
    await b.unsubscribe('unsub');
    t.equal(await s.subscribers('unsub'), 0);
    await a.publish('unsub', Buffer.from('m2'));
    await a.publish('unsub-end', Buffer.from('e2'));
    await end.until(2);
    t.same(text(u.got), ['m1'], 'm2 came after the unsubscribe');
    await b.unsubscribe('never-subscribed');
    await b.unsubscribe('unsub');
    await b.unsubscribe('unsub-end');
  });

  t.test('one listener per topic: a second subscribe replaces the first', async (t) => {
    const first = new Inbox();
    const second = new Inbox();
    await b.subscribe('one', first.listener);
    await b.subscribe('one', second.listener);
    t.equal(await s.subscribers('one'), 1, 'still one subscription');
    await a.publish('one', Buffer.from('m'));
    await a.publish('one', Buffer.from('e'));
    t.same(text(await second.until(2)), ['m', 'e']);
    t.same(first.got, [], 'the replaced listener got nothing');
    await b.unsubscribe('one');
  });

  t.test('bytes arrive exact: every byte value, empty, and large', async (t) => {
    const bytes = new Inbox();
    await b.subscribe('bytes', bytes.listener);
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const invalidUtf8 = Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0x00]);
    const large = randomBytes(3 * 1024 * 1024 + 3);
    const sent = [every, Buffer.alloc(0), invalidUtf8, large, Buffer.from(every).reverse()];
    for (const m of sent) await a.publish('bytes', m);
    const got = await bytes.until(sent.length);
    t.equal(got.length, sent.length);
    for (let i = 0; i < sent.length; i++) t.ok(got[i]!.equals(sent[i]!), `message ${i} (${sent[i]!.length} bytes) is exact`);
    await b.unsubscribe('bytes');
  });

  t.test('close releases the subscriptions; the broker refuses work afterwards', async (t) => {
    const atA = new Inbox();
    const atB = new Inbox();
    await a.subscribe('closing', atA.listener);
    await b.subscribe('closing', atB.listener);
    await b.subscribe('closing-2', atB.listener);
    t.equal(await s.subscribers('closing'), 2);
    await b.close();
    t.equal(await s.subscribers('closing'), 1, 'only a is left');
    t.equal(await s.subscribers('closing-2'), 0);
    await a.publish('closing', Buffer.from('after close'));
    t.same(text(await atA.until(1)), ['after close']);
    await t.rejects(b.publish('closing', Buffer.from('x')), { code: 'ERR_WS_BROKER_CLOSED' });
    await b.close();
    t.same(atB.got, [], 'the closed broker got nothing');
    await a.unsubscribe('closing');
  });
}
