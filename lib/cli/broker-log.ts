// `rfcws serve` with a broker: its subscriptions and failures in the connection log. A line per
// confirmed subscription tells an operator (and the CLI tests) from when on messages published
// on the other servers reach this one's clients. Failures are throttled: during a Redis outage
// every publish fails, and a busy server would otherwise write a line per message.
import type { Broker } from '../pubsub/broker.js';
import type { BrokerError } from '../pubsub/broker-error.js';

/** Runs `fn` once after `ms` unless cancelled; returns the cancel. */
export type Schedule = (fn: () => void, ms: number) => () => void;

const unrefTimer: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms).unref();
  return () => clearTimeout(timer);
};

/**
 * The log of failed broker operations. The first failure of an outage is logged at once, in
 * full; later ones are counted and summarised, at most one line per `every` ms (1 s: a line a
 * second is readable, and an outage of any length stays a short log); the first operation that
 * succeeds again ends the outage with one line.
 */
export class BrokerFailureLog {
  /** Failures since the outage began (0: no outage). */
  private failed = 0;
  /** Failures not yet in a line, and the last of them. */
  private unreported = 0;
  private last: BrokerError | null = null;
  private cancel: (() => void) | null = null;

  constructor(
    private readonly log: (line: string) => void,
    private readonly every = 1000,
    private readonly schedule: Schedule = unrefTimer,
  ) {}

  failure(err: BrokerError): void {
    if (++this.failed === 1) return this.log(`broker error ${err.code}: ${err.message}`);
    this.unreported++;
    this.last = err;
    this.cancel ??= this.schedule(() => {
      this.cancel = null;
      this.summary();
    }, this.every);
  }

  /** An operation went through: `what` says which (`publish on topic "t"`). */
  success(what: string): void {
    if (this.failed === 0) return;
    this.cancel?.();
    this.cancel = null;
    this.log(`broker recovered: ${what} went through, after ${this.failed} failed operation${this.failed === 1 ? '' : 's'}`);
    this.failed = 0;
    this.unreported = 0;
    this.last = null;
  }

  private summary(): void {
    const err = this.last;
    if (this.unreported === 0 || err === null) return;
    this.log(`broker error ${err.code}: ${this.unreported} more failed (${this.failed} in this outage), the last: ${err.message}`);
    this.unreported = 0;
  }
}

/** `broker`, logging each subscribe and unsubscribe once the broker has confirmed it, and telling `failures` what went through. */
export function loggedBroker(broker: Broker, log: (line: string) => void, failures?: BrokerFailureLog): Broker {
  return {
    publish: async (topic, bytes) => {
      await broker.publish(topic, bytes);
      failures?.success(`publish on topic "${topic}"`);
    },
    subscribe: async (topic, onMessage) => {
      await broker.subscribe(topic, onMessage);
      failures?.success(`subscribe to topic "${topic}"`);
      log(`broker subscribed to topic "${topic}"`);
    },
    unsubscribe: async (topic) => {
      await broker.unsubscribe(topic);
      log(`broker unsubscribed from topic "${topic}"`);
    },
    close: () => broker.close(),
  };
}
