import type { Duplex } from 'node:stream';
import { UpgradeRejection } from '../errors.js';
import { REJECT_LINGER } from '../http/limits.js';
import { rejectionResponse } from './response.js';

/**
 * Answer a refused upgrade on `socket` and close it. The response goes out
 * with a FIN; the socket keeps draining input meanwhile (closing with unread
 * input makes the kernel send RST, which can destroy the answer before the
 * peer reads it) and is destroyed after `linger` ms if the peer has not closed.
 */
export function writeRejection(socket: Duplex, rejection: UpgradeRejection, linger = REJECT_LINGER): void {
  let bytes: Buffer;
  try {
    bytes = rejectionResponse(rejection.status, rejection.headers, rejection.body);
  } catch {
    // Hook-supplied headers were invalid (CR/LF...): never echo them.
    bytes = rejectionResponse(500, undefined, 'Internal Server Error');
  }
  if (socket.destroyed) return;
  socket.on('error', ignore);
  socket.on('data', ignore);
  socket.resume();
  socket.end(bytes);
  const timer = setTimeout(() => socket.destroy(), linger);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

function ignore(): void {}

/** A 500 refusal for an unexpected error (a throwing user hook); `cause` keeps the original. */
export function internalError(cause: unknown): UpgradeRejection {
  if (cause instanceof UpgradeRejection) return cause;
  const rejection = new UpgradeRejection(500, 'Internal Server Error');
  Object.defineProperty(rejection, 'cause', { value: cause, configurable: true, writable: true });
  return rejection;
}

/** Run a user hook (or format what it returned); its exceptions become a 500 whose cause is the original error. */
export function callHook<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw internalError(err);
  }
}
