// The server options of topics and publish, with their defaults.
import { InvalidArgumentError } from '../errors.js';
import type { Broker } from './broker.js';

/** What happens to a subscriber whose `bufferedAmount` is over `maxBackpressure` when a message is published. */
export type BackpressurePolicy = 'drop' | 'close';

/** Options of {@link WebSocketServer} for topics (`ws.subscribe`, `server.publish`). */
export interface PubSubOptions {
  /**
   * A subscriber whose `bufferedAmount` is over this many bytes when a message is published
   * misses it ('drop') or is closed with 1008 ('close'). Default 1 MiB; Infinity: no limit
   * but `maxSendQueue`.
   */
  maxBackpressure?: number;
  /** 'drop' (default: counted in `ws.droppedMessages`, server event `drop`) or 'close' (1008). */
  backpressurePolicy?: BackpressurePolicy;
  /** Carries publishes to and from other servers (cluster workers, Redis, a `MemoryHub`). */
  broker?: Broker;
}

export const DEFAULT_MAX_BACKPRESSURE = 1024 * 1024;

export function resolvePubSubOptions(o: PubSubOptions): { maxBackpressure: number; backpressurePolicy: BackpressurePolicy } {
  const maxBackpressure = o.maxBackpressure ?? DEFAULT_MAX_BACKPRESSURE;
  if (typeof maxBackpressure !== 'number' || Number.isNaN(maxBackpressure) || maxBackpressure < 0) {
    throw new InvalidArgumentError(`maxBackpressure must be a number >= 0 (got ${String(maxBackpressure)})`);
  }
  const backpressurePolicy = o.backpressurePolicy ?? 'drop';
  if (backpressurePolicy !== 'drop' && backpressurePolicy !== 'close') {
    throw new InvalidArgumentError(`backpressurePolicy must be 'drop' or 'close', not ${String(backpressurePolicy)}`);
  }
  const b = o.broker;
  if (b !== undefined && (b === null || typeof b.publish !== 'function' || typeof b.subscribe !== 'function' || typeof b.unsubscribe !== 'function')) {
    throw new InvalidArgumentError('broker must implement publish, subscribe and unsubscribe (see the Broker interface)');
  }
  return { maxBackpressure, backpressurePolicy };
}
