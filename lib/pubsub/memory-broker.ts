// A broker inside one process: several servers (in tests, or an application that runs more than
// one WebSocketServer) joined by a MemoryHub, each with its own MemoryBroker.
import { InvalidStateError } from '../errors.js';
import type { Broker, BrokerListener } from './broker.js';

/** Joins the {@link MemoryBroker}s made on it: what one publishes, all of them receive (itself included). */
export class MemoryHub {
  /** @internal */
  readonly members = new Set<MemoryBroker>();

  /** A new broker on this hub, for one server. */
  broker(): MemoryBroker {
    return new MemoryBroker(this);
  }
}

/**
 * The {@link Broker} contract in memory. Messages are delivered asynchronously (never inside
 * `publish`), in publish order, as a copy (the publisher may reuse its buffer), to every broker
 * of the hub subscribed to the topic at delivery time. After `close()`, `publish` and
 * `subscribe` reject with InvalidStateError.
 */
export class MemoryBroker implements Broker {
  private readonly listeners = new Map<string, BrokerListener>();
  private closed = false;

  /** @param hub the hub to join; by default a new one of its own. */
  constructor(private readonly hub: MemoryHub = new MemoryHub()) {
    hub.members.add(this);
  }

  async publish(topic: string, bytes: Buffer): Promise<void> {
    this.check('publish');
    const copy = Buffer.from(bytes);
    queueMicrotask(() => {
      for (const b of this.hub.members) b.listeners.get(topic)?.(copy);
    });
  }

  async subscribe(topic: string, onMessage: BrokerListener): Promise<void> {
    this.check('subscribe');
    this.listeners.set(topic, onMessage);
  }

  async unsubscribe(topic: string): Promise<void> {
    this.listeners.delete(topic);
  }

  /** Topics this broker is subscribed to (for tests and metrics). */
  get topics(): string[] {
    return [...this.listeners.keys()];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.hub.members.delete(this);
  }

  private check(what: string): void {
    if (this.closed) throw new InvalidStateError(`MemoryBroker: ${what}() after close()`);
  }
}
