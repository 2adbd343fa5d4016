/**
 * rfcws: a zero-dependency WebSocket implementation (RFC 6455, RFC 7692) on
 * Node's raw net/tls sockets.
 *
 * ```ts
 * import { WebSocketServer, connect } from 'rfcws';
 * ```
 * @packageDocumentation
 */
export { WebSocket } from './websocket.js';
export type { WebSocketEvents, SendOptions, SendData, HandshakeResponse } from './websocket.js';
export { DEFAULT_OPTIONS } from './options.js';
export type { WebSocketOptions, ResolvedOptions } from './options.js';
export type { Message } from './iterator.js';
export { createWebSocketStream } from './streams.js';
export type { WebSocketStreamOptions } from './streams.js';
export { MessageStream, MESSAGE_STREAM_HIGH_WATER_MARK } from './incoming-stream.js';
export type { StreamSource, SendStreamOptions } from './outgoing-stream.js';
export { WebSocketServer } from './server.js';
export type { WebSocketServerEvents, ServerOptions, UpgradeRequest, AuthorizeResult, Authorizer, OriginPolicy, ProtocolPolicy } from './server.js';
export { SERVER_HEAD_LIMITS, CLIENT_HEAD_LIMITS, DEFAULT_HANDSHAKE_TIMEOUT } from './http/limits.js';
export type { HeadLimits } from './http/limits.js';
export { connect } from './client.js';
export { H2_SESSION_IDLE } from './client-h2.js';
export { DEFAULT_MAX_CONCURRENT_STREAMS } from './server-h2.js';
export type { ClientOptions } from './client.js';
export type { PerMessageDeflateOptions } from './extensions/permessage-deflate.js';
export { setZlibConcurrency, DEFAULT_ZLIB_CONCURRENCY } from './extensions/permessage-deflate.js';
export {
  WebSocketError,
  ProtocolError,
  HandshakeError,
  UpgradeRejection,
  InvalidArgumentError,
  InvalidStateError,
  ConnectionClosedError,
} from './errors.js';
export type { UpgradeResponseDetails } from './errors.js';
