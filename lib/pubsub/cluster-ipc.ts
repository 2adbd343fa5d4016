// The messages ClusterBroker (in each worker) and its relay (in the primary) exchange over the
// node:cluster / child_process IPC channel, and the check that throws away anything else: the
// channel is shared with the application's own messages, and a malformed message is ignored.

/** Marks our messages among the application's on the same channel. */
export const TAG = 'rfcws-broker';

/**
 * The bytes of a message on the wire: a base64 string on the default JSON channel (JSON has no
 * bytes), or the bytes themselves on an 'advanced' (structured clone) channel.
 */
export type WireBytes = string | Uint8Array;

/** Worker -> primary. `b` tells the brokers of one worker apart; `id` pairs a request with its ack. */
export type ToRelay =
  | { tag: typeof TAG; op: 'sub' | 'unsub'; b: number; topic: string; id: number }
  | { tag: typeof TAG; op: 'pub'; topic: string; data: WireBytes }
  | { tag: typeof TAG; op: 'close'; b: number; id: number };

/** Primary -> worker. */
export type ToWorker =
  | { tag: typeof TAG; op: 'msg'; b: number; topic: string; data: WireBytes }
  | { tag: typeof TAG; op: 'ack'; b: number; id: number };

/** What both ends need of an IPC endpoint: `process` in a child, a `Worker` or `ChildProcess` in the parent. */
export interface IpcPeer {
  send(message: unknown, callback?: (err: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
  readonly connected?: boolean;
}

/** Longest topic name accepted over IPC (a bound on what a confused peer can make us store). */
export const MAX_TOPIC_LENGTH = 64 * 1024;

const isTopic = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TOPIC_LENGTH;
const isId = (v: unknown): v is number => Number.isSafeInteger(v);
const isBytes = (v: unknown): v is WireBytes => typeof v === 'string' || v instanceof Uint8Array;

function fields(m: unknown): Record<string, unknown> | null {
  if (typeof m !== 'object' || m === null) return null;
  const r = m as Record<string, unknown>;
  return r.tag === TAG ? r : null;
}

/** `m` as a message for the relay, or null for anything else (the application's messages, garbage). */
export function toRelay(m: unknown): ToRelay | null {
  const r = fields(m);
  if (r === null) return null;
  switch (r.op) {
    case 'sub':
    case 'unsub':
      return isId(r.b) && isTopic(r.topic) && isId(r.id) ? (r as ToRelay) : null;
    case 'pub':
      return isTopic(r.topic) && isBytes(r.data) ? (r as ToRelay) : null;
    case 'close':
      return isId(r.b) && isId(r.id) ? (r as ToRelay) : null;
    default:
      return null;
  }
}

/** `m` as a message for a worker's broker, or null. */
export function toWorker(m: unknown): ToWorker | null {
  const r = fields(m);
  if (r === null || !isId(r.b)) return null;
  if (r.op === 'msg') return isTopic(r.topic) && isBytes(r.data) ? (r as ToWorker) : null;
  if (r.op === 'ack') return isId(r.id) ? (r as ToWorker) : null;
  return null;
}

/** Bytes for the wire: themselves on an 'advanced' channel, base64 on a JSON one. */
export function encode(bytes: Buffer, advanced: boolean): WireBytes {
  return advanced ? bytes : bytes.toString('base64');
}

/** The bytes back from the wire, without a copy where the channel gave bytes. */
export function decode(data: WireBytes): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'base64');
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
