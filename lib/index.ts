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
export type { Broker, BrokerListener } from './pubsub/broker.js';
export { BrokerError } from './pubsub/broker-error.js';
export { ClusterBroker, ClusterRelay } from './pubsub/cluster-broker.js';
export type { ClusterBrokerOptions, RelayPeer } from './pubsub/cluster-broker.js';
export { RedisBroker } from './pubsub/redis-broker.js';
export type { RedisBrokerOptions, RedisClientLike, NodeRedisClient, IoRedisClient } from './pubsub/redis-broker.js';
