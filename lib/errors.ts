/**
 * Error classes a user of the library can meet. Every error has a stable `code`
 * string to branch on; messages say what happened and what to do about it.
 */

/** Base class of every error this library throws or emits. */
export class WebSocketError extends Error {
  /** Stable machine-readable identifier, e.g. `ERR_WS_PROTOCOL`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * `make()` with no stack captured: for a wrapper around an error that carries its own stack
 * (`cause`), built in an event handler where its own frames would say nothing. Capturing a
 * stack costs more than the rest of a reset connection's handling.
 */
export function withoutStack<E extends Error>(make: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * The peer broke RFC 6455 / RFC 7692 (or a configured limit): the connection is
 * failed with `closeCode` (1002, 1007, 1009, ...).
 */
export class ProtocolError extends WebSocketError {
  /** The close code sent to the peer when failing the connection. */
  readonly closeCode: number;

  constructor(closeCode: number, message: string, code = codeForClose(closeCode)) {
    super(code, message);
    this.closeCode = closeCode;
  }
}

function codeForClose(closeCode: number): string {
  switch (closeCode) {
    case 1007: return 'ERR_WS_INVALID_PAYLOAD';
    case 1008: return 'ERR_WS_POLICY_VIOLATION';
    case 1009: return 'ERR_WS_MESSAGE_TOO_BIG';
    default: return 'ERR_WS_PROTOCOL';
  }
}

/** Response details collected when a client's upgrade is refused. */
export interface UpgradeResponseDetails {
  /** HTTP status code of the response (e.g. 401, 403, 503), if one was received. */
  status?: number;
  /** Response headers, names lower-cased; repeated headers joined with ", ". */
  headers?: Record<string, string>;
  /** The start of the response body (bounded), if any was received. */
  body?: Buffer;
  /** Names and values as received: [name, value, ...] (repeats kept apart, e.g. each Set-Cookie). */
  rawHeaders?: readonly string[];
  /** A redirect's Location resolved against the URL dialled and mapped to ws: / wss: (when it is a valid URL). */
  location?: string;
}

/**
 * The opening handshake failed on the client side: the server refused the
 * upgrade, answered with something invalid, or the connection/timeout failed.
 * `status`, `headers` and `body` let a caller tell a retriable failure (503,
 * network error) from a final one (401, 403, 404).
 *
 * Codes that start with `ERR_WS_PROXY_` come from the HTTP proxy, not the
 * server: {@link PROXY_ERROR_CODES}.
 */
export class HandshakeError extends WebSocketError implements UpgradeResponseDetails {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
  readonly rawHeaders?: readonly string[];
  readonly location?: string;

  constructor(code: string, message: string, details: UpgradeResponseDetails = {}, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = details.status;
    this.headers = details.headers;
    this.body = details.body;
    this.rawHeaders = details.rawHeaders;
    this.location = details.location;
  }
}

/**
 * HandshakeError codes of a failed tunnel through an HTTP proxy (the proxy's
 * answer to CONNECT, before any byte reached the server): REFUSED (a non-2xx
 * answer such as 407, 403 or 502: `status`, `headers`, `body` are the
 * proxy's), CONNECT (the proxy could not be reached, or closed before it
 * answered), TIMEOUT, INVALID_RESPONSE, RESPONSE_TOO_LARGE.
 */
export const PROXY_ERROR_CODES = Object.freeze({
  REFUSED: 'ERR_WS_PROXY_REFUSED',
  CONNECT: 'ERR_WS_PROXY_CONNECT',
  TIMEOUT: 'ERR_WS_PROXY_TIMEOUT',
  INVALID_RESPONSE: 'ERR_WS_PROXY_INVALID_RESPONSE',
  RESPONSE_TOO_LARGE: 'ERR_WS_PROXY_RESPONSE_TOO_LARGE',
} as const);

/**
 * A server-side refusal of an upgrade request: answered with `status`, optional
 * extra `headers` and `body`, then the socket is closed.
 */
export class UpgradeRejection extends WebSocketError {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;

  constructor(status: number, message: string, headers: Record<string, string> = {}, body = message) {
    super('ERR_WS_UPGRADE_REJECTED', message);
    this.status = status;
    this.headers = headers;
    this.body = body;
  }
}

/** A wrong argument passed to the API (bad close code, reason too long, CR/LF in a header...). */
export class InvalidArgumentError extends WebSocketError {
  constructor(message: string) {
    super('ERR_WS_INVALID_ARGUMENT', message);
  }
}

/** An operation was attempted in a state that does not allow it (send after close...). */
export class InvalidStateError extends WebSocketError {
  constructor(message: string) {
    super('ERR_WS_INVALID_STATE', message);
  }
}

/**
 * Thrown by a WebSocket's async iterator when the connection ended without a
 * clean closing handshake (peer vanished, protocol error, keepalive timeout).
 */
export class ConnectionClosedError extends WebSocketError {
  /** The close code reported for the connection (1006 when no close frame was exchanged). */
  readonly closeCode: number;
  readonly reason: string;

  constructor(closeCode: number, reason: string) {
    super('ERR_WS_CLOSED', `WebSocket closed without a clean closing handshake (code ${closeCode}${reason ? `: ${reason}` : ''})`);
    this.closeCode = closeCode;
    this.reason = reason;
  }
}
