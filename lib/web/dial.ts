/**
 * What the browser-compatible classes share below their interfaces: the Node-only options,
 * the dial through connect(), and how a closed connection is reported (the standard's
 * "WebSocket connection close code" and whether the connection was failed).
 */
import { connect, type ClientOptions } from '../client/client.js';
import type { WebSocket as Connection } from '../websocket.js';

/**
 * Node-only options, passed as the second argument instead of the protocols:
 * `new WebSocket(url, { protocols, headers, tls, perMessageDeflate, http })`. Every
 * option of connect() applies; permessage-deflate is offered by default, as browsers do.
 */
export interface NodeWebSocketOptions extends Omit<ClientOptions, 'protocols'> {
  /** Subprotocols to offer (a string stands for a list of one). */
  protocols?: string | string[];
}

/** Opens the connection (a browser's defaults: permessage-deflate offered); aborting `cancel` drops the dial at once. */
export function dial(url: URL, protocols: string[], options: NodeWebSocketOptions, cancel: AbortSignal): Promise<Connection> {
  const signal = options.signal === undefined ? cancel : AbortSignal.any([options.signal, cancel]);
  return connect(url, { perMessageDeflate: true, ...options, protocols, signal });
}

/** How a connection ended, as the standard reports it. */
export interface Outcome {
  /** The peer's close code (1005: its close frame had none), or 1006 when no close frame arrived. */
  code: number;
  reason: string;
  wasClean: boolean;
  /** The connection was failed (protocol error, send queue full, lost without a close frame): `error` precedes `close`. */
  failed: boolean;
}

/** An outcome for a connection that never opened (any cause: DNS, refused, TLS, handshake) or was dropped. */
export const FAILED: Outcome = Object.freeze({ code: 1006, reason: '', wasClean: false, failed: true });

/**
 * The outcome from the connection's `close` event. The connection reports the code it
 * failed with (1002, 1007...) when it failed; the standard reports 1006 then, as no close
 * frame came from the peer. `sawError` is whether the connection emitted `error`.
 */
export function outcomeOf(code: number, reason: string, wasClean: boolean, sawError: boolean): Outcome {
  if (wasClean) return { code, reason, wasClean, failed: false };
  if (code === 1006 || sawError) return FAILED;
  return { code, reason, wasClean, failed: false };
}
