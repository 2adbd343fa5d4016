import { InvalidArgumentError } from '../errors.js';

/** Hard limits on an HTTP/1.1 head (request or response) read off a socket. */
export interface HeadLimits {
  /** Bytes of the whole head, start line and final blank line included. */
  maxHeadSize: number;
  /** Number of header fields. */
  maxHeaders: number;
  /** Bytes of one line (start line or header line), line ending excluded. */
  maxHeaderLineLength: number;
}

/** Server defaults: the request head is the first thing an anonymous peer controls. */
export const SERVER_HEAD_LIMITS: Readonly<HeadLimits> = Object.freeze({
  maxHeadSize: 8 * 1024,
  maxHeaders: 64,
  maxHeaderLineLength: 4 * 1024,
});

/** Client defaults: looser, since servers and proxies legitimately send large cookies and headers. */
export const CLIENT_HEAD_LIMITS: Readonly<HeadLimits> = Object.freeze({
  maxHeadSize: 16 * 1024,
  maxHeaders: 128,
  maxHeaderLineLength: 8 * 1024,
});

/** Milliseconds from connection to completed upgrade, both roles (slowloris bound). */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/** Bytes of a refused upgrade's response body kept for HandshakeError.body. */
export const MAX_ERROR_BODY = 4 * 1024;

/** Milliseconds the client waits for the rest of a refused upgrade's body once the head is in. */
export const ERROR_BODY_TIMEOUT = 1_000;

/** Milliseconds a server keeps a refused socket open for the peer to read the answer and close. */
export const REJECT_LINGER = 2_000;

/** Resolve user-supplied limits against defaults; throws InvalidArgumentError on nonsense. */
export function resolveLimits(user: Partial<HeadLimits>, defaults: Readonly<HeadLimits>): HeadLimits {
  const out = { ...defaults };
  for (const name of ['maxHeadSize', 'maxHeaders', 'maxHeaderLineLength'] as const) {
    const value = user[name];
    if (value !== undefined) out[name] = positiveInteger(name, value);
  }
  return out;
}

/** `value` when it is a positive safe integer; InvalidArgumentError naming the option otherwise. */
export function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`Option ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
