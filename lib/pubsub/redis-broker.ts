// Topics across machines through Redis pub/sub, over the application's own clients: the `redis`
// package (v4 and newer) or `ioredis`, told apart by their shape, so this file imports neither.
import type { Broker, BrokerListener } from './broker.js';
import { BrokerError } from './broker-error.js';
import { InvalidArgumentError } from '../errors.js';

/** The part of a `redis` (node-redis v4+) client the broker uses. */
export interface NodeRedisClient {
  publish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(channel: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<unknown>;
  unsubscribe(channel: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<unknown>;
  pSubscribe: unknown;
  readonly isReady: boolean;
  /** node-redis v5+: the same client with an AbortSignal for its commands (aborting drops a command not yet sent). */
  withAbortSignal?(signal: AbortSignal): NodeRedisClient;
}

/** The part of an `ioredis` client the broker uses. */
export interface IoRedisClient {
  publish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'messageBuffer', listener: (channel: Buffer, message: Buffer) => void): unknown;
  off(event: 'messageBuffer', listener: (channel: Buffer, message: Buffer) => void): unknown;
  readonly status: string;
  /** What the client was created with; a publisher must turn both off (see {@link RedisBroker}). */
  readonly options?: { enableOfflineQueue?: boolean; autoResendUnfulfilledCommands?: boolean };
}

export type RedisClientLike = NodeRedisClient | IoRedisClient;

/** Options of {@link RedisBroker}. */
export interface RedisBrokerOptions {
  /** Publishes; any connected client of the application's. */
  publisher: RedisClientLike;
  /** Subscribes; a dedicated client (a subscribed Redis connection runs no other commands), e.g. `publisher.duplicate()`. */
  subscriber: RedisClientLike;
  /** Prepended to a topic to make its Redis channel (default `'rfcws:'`: topic `room` is channel `rfcws:room`). */
  prefix?: string;
  /** Milliseconds a PUBLISH, SUBSCRIBE or UNSUBSCRIBE may wait for Redis's reply before it rejects (default 5000). */
  timeout?: number;
}

const isNodeRedis = (c: RedisClientLike): c is NodeRedisClient =>
  typeof (c as NodeRedisClient).pSubscribe === 'function' && typeof (c as NodeRedisClient).isReady === 'boolean';
const isIoRedis = (c: RedisClientLike): c is IoRedisClient =>
  typeof (c as IoRedisClient).status === 'string' && typeof (c as IoRedisClient).on === 'function';

function check(name: string, c: RedisClientLike): 'node-redis' | 'ioredis' {
  if (c === null || typeof c !== 'object' || typeof c.publish !== 'function') {
    throw new InvalidArgumentError(`RedisBroker: ${name} is not a Redis client (give a client of the \`redis\` or \`ioredis\` package)`);
  }
  if (isNodeRedis(c)) return 'node-redis';
  if (isIoRedis(c)) return 'ioredis';
  throw new InvalidArgumentError(`RedisBroker: ${name} looks like neither a \`redis\` v4+ client (pSubscribe, isReady) nor an \`ioredis\` one (status, on)`);
}

/**
 * An ioredis publisher with its defaults would send a message after the broker reported it as
 * failed: PUBLISHes written while Redis was unknowingly gone are resent on reconnect
 * (`autoResendUnfulfilledCommands`), and ones given while the stream was not writable are queued
 * (`enableOfflineQueue`). Either breaks "reported as failed, never delivered later".
 */
function checkIoRedisPublisher(c: IoRedisClient): void {
  const o = c.options;
  if (o === undefined || (o.enableOfflineQueue === false && o.autoResendUnfulfilledCommands === false)) return;
  throw new InvalidArgumentError(
    'RedisBroker: an ioredis publisher must be created with { enableOfflineQueue: false, autoResendUnfulfilledCommands: false } ' +
      '(otherwise a publish reported as failed during an outage is sent after it), e.g. client.duplicate({ enableOfflineQueue: false, autoResendUnfulfilledCommands: false })',
  );
}

/** Rejects with ERR_WS_BROKER_TIMEOUT when `p` has not settled after `ms` (calling `onTimeout` first). */
function within<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new BrokerError('ERR_WS_BROKER_TIMEOUT', `Redis did not answer ${what} within ${ms} ms`));
    }, ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A {@link Broker} over Redis pub/sub: topic `t` is the channel `prefix + t` (default
 * `rfcws:t`), a message is the published bytes unchanged.
 *
 * Clients: `redis` v4+ (`createClient()`, the subscriber `client.duplicate()`; bytes through
 * `subscribe(channel, listener, true)`) or `ioredis` (`subscribe(channel)` and the
 * 'messageBuffer' event), recognised by shape. Connect them before use; closing them stays
 * the application's job.
 *
 * Outages: `publish` rejects at once (`ERR_WS_BROKER_UNAVAILABLE`) while the publisher is not
 * ready (node-redis `isReady`, ioredis `status`), so a message is not parked in the client's
 * offline queue, and rejects after `timeout` (`ERR_WS_BROKER_TIMEOUT`) when Redis does not reply.
 * A PUBLISH the client had not sent yet is withdrawn then (node-redis v5+, by AbortSignal); one
 * already sent may have reached Redis. For node-redis v4, create the publisher with
 * `disableOfflineQueue: true` so that nothing queued before the client noticed the outage is
 * sent after it. An ioredis publisher must have `enableOfflineQueue: false` and
 * `autoResendUnfulfilledCommands: false` (checked here: ioredis otherwise resends, once Redis is
 * back, a PUBLISH that was in flight when the connection dropped, after it was reported as
 * failed); the ioredis subscriber keeps its defaults (`autoResubscribe`). Subscriptions come
 * back when the clients reconnect (both packages resubscribe on their own).
 */
export class RedisBroker implements Broker {
  private readonly publisher: RedisClientLike;
  private readonly subscriber: RedisClientLike;
  private readonly kind: 'node-redis' | 'ioredis';
  readonly prefix: string;
  private readonly timeout: number;
  /** channel -> listener */
  private readonly listeners = new Map<string, BrokerListener>();
  private closed = false;
  private readonly dispatch = (message: Buffer, channel: Buffer): void => {
    this.listeners.get(channel.toString())?.(message);
  };
  private readonly dispatchIo = (channel: Buffer, message: Buffer): void => this.dispatch(message, channel);

  constructor(options: RedisBrokerOptions) {
    if (check('publisher', options.publisher) === 'ioredis') checkIoRedisPublisher(options.publisher as IoRedisClient);
    this.kind = check('subscriber', options.subscriber);
    this.publisher = options.publisher;
    this.subscriber = options.subscriber;
    this.prefix = options.prefix ?? 'rfcws:';
    this.timeout = options.timeout ?? 5000;
    if (this.kind === 'ioredis') (this.subscriber as IoRedisClient).on('messageBuffer', this.dispatchIo);
  }

  /** The Redis channel of `topic`. */
  channel(topic: string): string {
    return this.prefix + topic;
  }

  async publish(topic: string, bytes: Buffer): Promise<void> {
    if (this.closed) throw new BrokerError('ERR_WS_BROKER_CLOSED', 'The RedisBroker is closed');
    const p = this.publisher;
    const ready = isNodeRedis(p) ? p.isReady : (p as IoRedisClient).status === 'ready';
    if (!ready) throw new BrokerError('ERR_WS_BROKER_UNAVAILABLE', 'Redis is not connected: the message was not published');
    // A PUBLISH still in node-redis's queue when the time is up is taken out of it, so that a
    // message reported as failed is not sent after a reconnect as well.
    const abort = isNodeRedis(p) && typeof p.withAbortSignal === 'function' ? new AbortController() : null;
    const client = abort === null ? p : (p as NodeRedisClient).withAbortSignal!(abort.signal);
    try {
      await within(client.publish(this.channel(topic), bytes), this.timeout, 'PUBLISH', () => abort?.abort());
    } catch (err) {
      if (err instanceof BrokerError) throw err;
      throw new BrokerError('ERR_WS_BROKER_UNAVAILABLE', `Redis refused PUBLISH: ${(err as Error).message}`, { cause: err });
    }
  }

  async subscribe(topic: string, onMessage: BrokerListener): Promise<void> {
    if (this.closed) throw new BrokerError('ERR_WS_BROKER_CLOSED', 'The RedisBroker is closed');
    const channel = this.channel(topic);
    const known = this.listeners.has(channel);
    this.listeners.set(channel, onMessage);
    if (known) return;
    try {
      await within(this.redisSubscribe(channel), this.timeout, 'SUBSCRIBE');
    } catch (err) {
      if (this.listeners.get(channel) === onMessage) {
        this.listeners.delete(channel);
        // A SUBSCRIBE still queued in the client would otherwise come true later.
        this.redisUnsubscribe(channel).catch(() => {});
      }
      throw err instanceof BrokerError ? err : new BrokerError('ERR_WS_BROKER_UNAVAILABLE', `Redis refused SUBSCRIBE: ${(err as Error).message}`, { cause: err });
    }
  }

  async unsubscribe(topic: string): Promise<void> {
    const channel = this.channel(topic);
    if (!this.listeners.delete(channel)) return;
    await within(this.redisUnsubscribe(channel), this.timeout, 'UNSUBSCRIBE');
  }

  /** Unsubscribes from every channel of this broker; the clients stay open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const channels = [...this.listeners.keys()];
    this.listeners.clear();
    if (this.kind === 'ioredis') (this.subscriber as IoRedisClient).off('messageBuffer', this.dispatchIo);
    // Redis down: the client forgets the channel at once (no resubscribe); do not wait forever for the reply.
    await Promise.allSettled(channels.map((c) => within(this.redisUnsubscribe(c), this.timeout, 'UNSUBSCRIBE')));
  }

  private redisSubscribe(channel: string): Promise<unknown> {
    const s = this.subscriber;
    return isNodeRedis(s) ? s.subscribe(channel, this.dispatch, true) : (s as IoRedisClient).subscribe(channel);
  }

  private redisUnsubscribe(channel: string): Promise<unknown> {
    const s = this.subscriber;
    return isNodeRedis(s) ? s.unsubscribe(channel, this.dispatch, true) : (s as IoRedisClient).unsubscribe(channel);
  }
}
