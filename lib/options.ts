/**
 * Every per-connection option and its default, validated and resolved once
 * into one frozen object that is passed down (a server's connections all
 * share the object resolved at its construction).
 */
import { InvalidArgumentError } from './errors.js';
import { DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD } from './protocol/constants.js';

/** Options shared by both roles (server connections and client connections). */
export interface WebSocketOptions {
  /** Largest message accepted, in bytes, counting all fragments and, when compressed, the inflated size. Default 64 MiB. */
  maxPayload?: number;
  /** Most frames one message may be split into. Default 2^20 (see README). */
  maxFragments?: number;
  /** Send a ping this often (ms); 0 turns keepalive off. Default 30 000. */
  keepAliveInterval?: number;
  /** A peer that sends nothing at all within this many ms after a keepalive ping is terminated (reported as 1006). Default 30 000. */
  keepAliveTimeout?: number;
  /** How long (ms) to wait for the closing handshake and the TCP close before destroying the socket. Default 5 000. */
  closeTimeout?: number;
  /** Close with 1001 after this many ms without a data message in either direction; 0 = off (default). */
  idleTimeout?: number;
  /** `send()` returns false once `bufferedAmount` reaches this many bytes; `drain` follows. Default 1 MiB. */
  sendHighWaterMark?: number;
  /** Hard limit on `bufferedAmount`; a send that would pass it fails and triggers `sendQueueLimitPolicy`. Default 64 MiB. */
  maxSendQueue?: number;
  /** What to do with a peer that lets the send queue fill: close with 1008 (default) or terminate at once. */
  sendQueueLimitPolicy?: 'close' | 'terminate';
  /** Deliver every data message as a Readable (the `messageStream` event) while its frames still
   *  arrive, instead of `message` events. Default false. See README "Messages as streams". */
  streamMessages?: boolean;
  /** With `streamMessages`: the largest message accepted, in bytes (Infinity for no limit); for a
   *  compressed message, its inflated size. Default: `maxPayload`. */
  maxStreamPayload?: number;
}

/** The options of one connection after defaults and validation. */
export type ResolvedOptions = Readonly<Required<WebSocketOptions>>;

/** The defaults; see {@link WebSocketOptions}. */
export const DEFAULT_OPTIONS: ResolvedOptions = Object.freeze({
  maxPayload: DEFAULT_MAX_PAYLOAD,
  maxFragments: DEFAULT_MAX_FRAGMENTS,
  keepAliveInterval: 30_000,
  keepAliveTimeout: 30_000,
  closeTimeout: 5_000,
  idleTimeout: 0,
  sendHighWaterMark: 1024 * 1024,
  maxSendQueue: 64 * 1024 * 1024,
  sendQueueLimitPolicy: 'close',
  streamMessages: false,
  maxStreamPayload: DEFAULT_MAX_PAYLOAD,
});

/** One resolved object per options object, so repeated resolution costs a lookup. */
const resolvedCache = new WeakMap<WebSocketOptions, ResolvedOptions>();

/** Validates and resolves options (throws InvalidArgumentError naming the option). */
export function resolveOptions(o: WebSocketOptions = {}): ResolvedOptions {
  let r = resolvedCache.get(o);
  if (r !== undefined) return r;
  r = Object.freeze({
    maxPayload: nonNegative('maxPayload', o.maxPayload ?? DEFAULT_OPTIONS.maxPayload),
    maxFragments: atLeastOne('maxFragments', o.maxFragments ?? DEFAULT_OPTIONS.maxFragments),
    keepAliveInterval: nonNegative('keepAliveInterval', o.keepAliveInterval ?? DEFAULT_OPTIONS.keepAliveInterval),
    keepAliveTimeout: nonNegative('keepAliveTimeout', o.keepAliveTimeout ?? o.keepAliveInterval ?? DEFAULT_OPTIONS.keepAliveTimeout),
    closeTimeout: nonNegative('closeTimeout', o.closeTimeout ?? DEFAULT_OPTIONS.closeTimeout),
    idleTimeout: nonNegative('idleTimeout', o.idleTimeout ?? DEFAULT_OPTIONS.idleTimeout),
    sendHighWaterMark: nonNegative('sendHighWaterMark', o.sendHighWaterMark ?? DEFAULT_OPTIONS.sendHighWaterMark),
    maxSendQueue: nonNegative('maxSendQueue', o.maxSendQueue ?? DEFAULT_OPTIONS.maxSendQueue),
    sendQueueLimitPolicy: o.sendQueueLimitPolicy ?? DEFAULT_OPTIONS.sendQueueLimitPolicy,
    streamMessages: o.streamMessages === true,
    maxStreamPayload: nonNegative('maxStreamPayload', o.maxStreamPayload ?? o.maxPayload ?? DEFAULT_OPTIONS.maxStreamPayload),
  });
  if (r.sendQueueLimitPolicy !== 'close' && r.sendQueueLimitPolicy !== 'terminate') {
    throw new InvalidArgumentError(`sendQueueLimitPolicy must be 'close' or 'terminate', not ${String(r.sendQueueLimitPolicy)}`);
  }
  resolvedCache.set(o, r);
  return r;
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a number >= 0 (got ${String(value)})`);
  }
  return value;
}

function atLeastOne(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 1)) {
    throw new InvalidArgumentError(`${name} must be a number >= 1, Infinity for no limit (got ${String(value)})`);
  }
  return value;
}
