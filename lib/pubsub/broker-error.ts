// The one error class of the brokers: a publish or subscribe that could not be handed on.
import { WebSocketError } from '../errors.js';

/**
 * A broker could not hand a message or subscription on. `code`:
 * - `ERR_BROKER_UNAVAILABLE`: the transport is down (Redis disconnected, no IPC channel);
 * - `ERR_BROKER_TIMEOUT`: no answer in time (Redis did not reply, no cluster relay acknowledged);
 * - `ERR_BROKER_CLOSED`: the broker was closed.
 */
export class BrokerError extends WebSocketError {
  constructor(code: 'ERR_BROKER_UNAVAILABLE' | 'ERR_BROKER_TIMEOUT' | 'ERR_BROKER_CLOSED', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
