// The one error class of the brokers and of the server's broker link: a publish or subscription
// that could not be handed on.
import { WebSocketError } from '../errors.js';

export type BrokerErrorCode = 'ERR_WS_BROKER' | 'ERR_WS_BROKER_UNAVAILABLE' | 'ERR_WS_BROKER_TIMEOUT' | 'ERR_WS_BROKER_CLOSED';
export type BrokerOperation = 'publish' | 'subscribe' | 'unsubscribe';

/**
 * A broker could not hand a message or subscription on. `code`:
 * - `ERR_WS_BROKER_UNAVAILABLE`: the transport is down (Redis disconnected, no IPC channel);
 * - `ERR_WS_BROKER_TIMEOUT`: no answer in time (Redis did not reply, no cluster relay acknowledged);
 * - `ERR_WS_BROKER_CLOSED`: the broker was closed;
 * - `ERR_WS_BROKER`: any other failure of a broker (its own error is the `cause`).
 *
 * The server's `brokerError` event carries one with `operation` and `topic` set, and the
 * broker's own code when the broker rejected with a `BrokerError`.
 */
export class BrokerError extends WebSocketError {
  readonly operation: BrokerOperation | undefined;
  readonly topic: string | undefined;

  constructor(code: BrokerErrorCode, message: string, options?: { cause?: unknown; operation?: BrokerOperation; topic?: string }) {
    super(code, message, options);
    this.operation = options?.operation;
    this.topic = options?.topic;
  }

  /** The server's report of a failed broker call. */
  static failed(operation: BrokerOperation, topic: string, cause: unknown): BrokerError {
    const code = cause instanceof BrokerError ? (cause.code as BrokerErrorCode) : 'ERR_WS_BROKER';
    const why = cause instanceof Error ? cause.message : String(cause);
    return new BrokerError(code, `broker ${operation} on topic "${topic}" failed: ${why}`, { cause, operation, topic });
  }
}
