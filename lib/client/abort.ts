/**
 * Cancelling a dial (connect()'s `signal` option): each stage that holds a socket or a
 * stream (direct dial, proxy tunnel, HTTP/2 stream) watches the signal and fails with
 * ERR_WS_ABORTED, destroying what it holds at once.
 */
import { HandshakeError, InvalidArgumentError } from '../errors.js';

/** The error an aborted dial rejects with (code ERR_WS_ABORTED, name 'AbortError', cause: the signal's reason). */
export function abortError(href: string, signal: AbortSignal): HandshakeError {
  const err = new HandshakeError('ERR_WS_ABORTED', `The connection to ${href} was aborted`, {}, { cause: signal.reason });
  Object.defineProperty(err, 'name', { value: 'AbortError', configurable: true, writable: true });
  return err;
}

/**
 * Call `fail` with the abort error when `signal` aborts (at once if it already has).
 * Returns the function that stops watching (call it once the stage settles).
 */
export function watchAbort(signal: AbortSignal | undefined, href: string, fail: (err: HandshakeError) => void): () => void {
  if (signal === undefined) return noop;
  const onAbort = (): void => fail(abortError(href, signal));
  if (signal.aborted) {
    queueMicrotask(onAbort);
    return noop;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

/** A promise that rejects when `signal` aborts (never settles without one); `stop` detaches it. */
export function abortPromise(signal: AbortSignal | undefined, href: string): { promise: Promise<never>; stop: () => void } {
  let stop = noop;
  const promise = new Promise<never>((_, reject) => { stop = watchAbort(signal, href, reject); });
  promise.catch(noop);
  return { promise, stop };
}

/** connect()'s check of the option. */
export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  throw new InvalidArgumentError('Option signal must be an AbortSignal');
}

function noop(): void {}
