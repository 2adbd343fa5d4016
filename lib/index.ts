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
export { WebSocketServer } from './server/server.js';
export type { WebSocketServerEvents, ServerOptions, UpgradeRequest, AuthorizeResult, Authorizer, OriginPolicy, ProtocolPolicy } from './server/server.js';
export { SERVER_HEAD_LIMITS, CLIENT_HEAD_LIMITS, DEFAULT_HANDSHAKE_TIMEOUT } from './http/limits.js';
export type { HeadLimits } from './http/limits.js';
export { connect } from './client/client.js';
export { parseRetryAfter } from './protocol/retry-after.js';
export { H2_SESSION_IDLE } from './client/h2.js';
export { DEFAULT_MAX_CONCURRENT_STREAMS } from './server/h2.js';
export type { ClientOptions } from './client/client.js';
export type { ProxyOptions } from './client/proxy.js';
export type { RedirectOptions } from './client/redirect.js';
export type { HeadersOption } from './client/attempt.js';
export type { CreateConnection } from './client/stream.js';
export { CookieJar } from './http/cookie-jar.js';
export type { CookieStore, CookieJarOptions } from './http/cookie-jar.js';
export { DEFAULT_MAX_REDIRECTS } from './http/redirect.js';
export { ReconnectingWebSocket } from './reconnect/reconnecting-websocket.js';
export type { ReconnectingOptions, ReconnectingEvents, EndReason } from './reconnect/reconnecting-websocket.js';
export { DEFAULT_BACKOFF } from './reconnect/backoff.js';
export type { BackoffOptions, ResolvedBackoff } from './reconnect/backoff.js';
export type { Clock } from './timers.js';
export type { OutboxPolicy } from './reconnect/outbox.js';
export { ResumableSession, DEFAULT_RESUME_WINDOW } from './server/resume.js';
export type { ResumableSessionEvents, ResumeServerOptions, SessionEndCause } from './server/resume.js';
export { DEFAULT_RESUME_BUFFER } from './resume/state.js';
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
  PROXY_ERROR_CODES,
} from './errors.js';
export type { UpgradeResponseDetails } from './errors.js';
export type { PublishOptions } from './websocket.js';
export { MemoryBroker, MemoryHub } from './pubsub/memory-broker.js';
export type { BrokerStats } from './pubsub/broker-link.js';
export { DEFAULT_MAX_BACKPRESSURE } from './pubsub/options.js';
export type { PubSubOptions, BackpressurePolicy } from './pubsub/options.js';
export type { Broker, BrokerListener } from './pubsub/broker.js';
export { BrokerError } from './pubsub/broker-error.js';
export type { BrokerErrorCode, BrokerOperation } from './pubsub/broker-error.js';
export { ClusterBroker, ClusterRelay } from './pubsub/cluster-broker.js';
export type { ClusterBrokerOptions, RelayPeer } from './pubsub/cluster-broker.js';
export { RedisBroker } from './pubsub/redis-broker.js';
export type { RedisBrokerOptions, RedisClientLike, NodeRedisClient, IoRedisClient } from './pubsub/redis-broker.js';
