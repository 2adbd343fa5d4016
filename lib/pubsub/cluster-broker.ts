// Topics across the workers of one machine: each worker's broker talks to the primary over the
// IPC channel node:cluster (or child_process.fork) already opened, and the primary's relay hands
// each message to the brokers subscribed to its topic. No sockets, no dependency.
import type { Cluster } from 'node:cluster';
import type { Broker, BrokerListener } from './broker.js';
import { BrokerError } from './broker-error.js';
import { decode, encode, TAG, toWorker, type IpcPeer, type ToRelay } from './cluster-ipc.js';
import { ClusterRelay } from './cluster-relay.js';

export { ClusterRelay, type RelayPeer } from './cluster-relay.js';

/** Options of {@link ClusterBroker}. */
export interface ClusterBrokerOptions {
  /** The channel to the primary (default `process`, the cluster worker's or forked child's own). */
  channel?: IpcPeer;
  /** Milliseconds to wait for the relay to acknowledge a subscribe, unsubscribe or close (default 10 000). */
  ackTimeout?: number;
}

/** Tells the brokers of one process apart at the relay. */
let nextBroker = 0;

/**
 * A {@link Broker} over node:cluster IPC, for one server per worker on one machine. Call
 * `ClusterBroker.relay(cluster)` once in the primary, `new ClusterBroker()` in each worker.
 *
 * - `publish` resolves once the message is handed to the IPC channel and rejects
 *   (`ERR_WS_BROKER_UNAVAILABLE`) when the channel to the primary is gone.
 * - `subscribe`/`unsubscribe` resolve once the relay has recorded them: a message published
 *   anywhere after that reaches this broker. No relay answering within `ackTimeout`:
 *   `ERR_WS_BROKER_TIMEOUT`.
 * - Bytes travel as base64 on the default JSON channel and as themselves when the primary chose
 *   `serialization: 'advanced'` (the worker sees NODE_CHANNEL_SERIALIZATION_MODE).
 */
export class ClusterBroker implements Broker {
  /** Relays for every worker of `cluster` (call in the primary), or, without it, for the children you `add()`. */
  static relay(cluster?: Cluster): ClusterRelay {
    return new ClusterRelay(cluster);
  }

  private readonly channel: IpcPeer;
  private readonly ackTimeout: number;
  private readonly advanced = process.env.NODE_CHANNEL_SERIALIZATION_MODE === 'advanced';
  private readonly b = nextBroker++;
  private readonly listeners = new Map<string, BrokerListener>();
  private readonly acks = new Map<number, () => void>();
  private nextId = 0;
  private closed = false;
  private readonly onMessage = (m: unknown): void => {
    const msg = toWorker(m);
    if (msg === null || msg.b !== this.b) return;
    if (msg.op === 'ack') {
      this.acks.get(msg.id)?.();
      return;
    }
    this.listeners.get(msg.topic)?.(decode(msg.data));
  };

  constructor(options: ClusterBrokerOptions = {}) {
    const channel = options.channel ?? (process as unknown as IpcPeer);
    if (channel === process && typeof process.send !== 'function') {
      throw new BrokerError('ERR_WS_BROKER_UNAVAILABLE', 'ClusterBroker needs an IPC channel: run it in a cluster worker or a child_process.fork() child');
    }
    this.channel = channel;
    this.ackTimeout = options.ackTimeout ?? 10_000;
    channel.on('message', this.onMessage);
  }

  publish(topic: string, bytes: Buffer): Promise<void> {
    return this.send({ tag: TAG, op: 'pub', topic, data: encode(bytes, this.advanced) });
  }

  async subscribe(topic: string, onMessage: BrokerListener): Promise<void> {
    const known = this.listeners.has(topic);
    this.listeners.set(topic, onMessage);
    if (known) return;
    try {
      await this.request({ tag: TAG, op: 'sub', b: this.b, topic, id: this.nextId++ });
    } catch (err) {
      if (this.listeners.get(topic) === onMessage) this.listeners.delete(topic);
      throw err;
    }
  }

  async unsubscribe(topic: string): Promise<void> {
    if (!this.listeners.delete(topic)) return;
    await this.request({ tag: TAG, op: 'unsub', b: this.b, topic, id: this.nextId++ });
  }

  /** Drops every subscription at the relay (if it is still there) and stops listening on the channel. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.listeners.clear();
    try {
      if (this.channel.connected !== false) await this.request({ tag: TAG, op: 'close', b: this.b, id: this.nextId++ });
    } catch {
      // The primary is gone or silent: nothing is left to release there.
    } finally {
      this.closed = true;
      this.channel.off('message', this.onMessage);
    }
  }

  /** Sends `m` and waits for the relay's ack. */
  private request(m: ToRelay & { id: number }): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(m.id);
        reject(new BrokerError('ERR_WS_BROKER_TIMEOUT', `No ClusterBroker relay answered within ${this.ackTimeout} ms: call ClusterBroker.relay(cluster) in the primary`));
      }, this.ackTimeout);
      this.acks.set(m.id, () => {
        clearTimeout(timer);
        this.acks.delete(m.id);
        resolve();
      });
      this.send(m).catch((err: unknown) => {
        clearTimeout(timer);
        this.acks.delete(m.id);
        reject(err);
      });
    });
  }

  /** Resolves once `m` is handed to the IPC channel. */
  private send(m: ToRelay): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerError('ERR_WS_BROKER_CLOSED', 'The ClusterBroker is closed'));
    return new Promise<void>((resolve, reject) => {
      const fail = (cause?: unknown): void =>
        reject(new BrokerError('ERR_WS_BROKER_UNAVAILABLE', 'The IPC channel to the cluster primary is closed', { cause }));
      if (this.channel.connected === false) return fail();
      try {
        this.channel.send(m, (err) => (err ? fail(err) : resolve()));
      } catch (err) {
        fail(err);
      }
    });
  }
}
