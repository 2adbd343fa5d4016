// One server's side of a broker: its publishes go out in envelopes tagged with the server's
// origin id, the broker topic is subscribed while a local socket is, and what comes back is
// delivered locally unless it is malformed or the server's own (exactly once: its sockets got
// their copy when it was published).
import { BrokerError, type BrokerOperation } from './broker-error.js';
import type { Broker } from './broker.js';
import { decodeEnvelope, encodeEnvelope, newOrigin } from './envelope.js';

/** Counters of what crossed the broker, as `server.brokerStats` shows them. */
export interface BrokerStats {
  /** Messages handed to `broker.publish`. */
  published: number;
  /** Publishes the broker rejected (each also a `brokerError`). */
  publishFailed: number;
  /** Messages from other servers delivered to local subscribers. */
  received: number;
  /** This server's own messages handed back by the broker, dropped. */
  own: number;
  /** Broker messages that were not a valid envelope, dropped. */
  malformed: number;
}

export type Deliver = (topic: string, payload: Buffer, binary: boolean, compress: boolean) => void;

export class BrokerLink {
  /** Random per server instance, never sent anywhere but in envelopes. */
  readonly origin = newOrigin();
  readonly stats: BrokerStats = { published: 0, publishFailed: 0, received: 0, own: 0, malformed: 0 };

  constructor(
    private readonly broker: Broker,
    private readonly deliver: Deliver,
    private readonly onError: (err: BrokerError) => void,
  ) {}

  publish(topic: string, payload: Buffer, binary: boolean, compress: boolean): void {
    this.stats.published++;
    this.call('publish', topic, () => this.broker.publish(topic, encodeEnvelope(this.origin, binary, compress, payload)));
  }

  /** The first local subscriber of `topic` arrived. */
  open(topic: string): void {
    this.call('subscribe', topic, () => this.broker.subscribe(topic, (bytes) => this.receive(topic, bytes)));
  }

  /** The last local subscriber of `topic` left. */
  close(topic: string): void {
    this.call('unsubscribe', topic, () => this.broker.unsubscribe(topic));
  }

  /** @internal What the broker hands over for `topic`. */
  receive(topic: string, bytes: Buffer): void {
    const env = decodeEnvelope(bytes);
    if (env === null) {
      this.stats.malformed++;
    } else if (env.origin.equals(this.origin)) {
      this.stats.own++;
    } else {
      this.stats.received++;
      this.deliver(topic, env.payload, env.binary, env.compress);
    }
  }

  /**
   * Run a broker operation without letting its failure escape: publish is fire-and-forget for
   * callers, so a rejected promise nobody awaits would be an unhandled rejection (a crash).
   * Every failure, thrown or rejected, becomes one `onError` instead.
   */
  private call(operation: BrokerOperation, topic: string, run: () => Promise<void>): void {
    const fail = (err: unknown): void => {
      if (operation === 'publish') this.stats.publishFailed++;
      this.onError(BrokerError.failed(operation, topic, err));
    };
    let p: Promise<void>;
    try {
      p = run();
    } catch (err) {
      fail(err);
      return;
    }
    if (p !== null && typeof p === 'object' && typeof p.then === 'function') p.then(undefined, fail);
  }
}
