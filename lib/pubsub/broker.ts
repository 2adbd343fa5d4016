// The seam between a server's topics and the world outside its process: a broker moves opaque
// bytes per topic between servers (cluster IPC, Redis, a test's in-memory hub). What the bytes
// mean (who published, binary or text, the payload) is the server's business, not the broker's.

/** Called with each message a broker receives on a topic this server subscribed to. */
export type BrokerListener = (bytes: Buffer) => void;

/**
 * A message bus between servers. Implementations: `ClusterBroker` (node:cluster IPC),
 * `RedisBroker` (Redis pub/sub over the application's own clients).
 *
 * Contract:
 * - `publish` hands `bytes` to every server subscribed to `topic`, possibly this one too (the
 *   server recognises and drops its own messages). It rejects when the message could not be
 *   handed on (broker down, connection lost): a publish is never lost without a signal.
 * - `subscribe` starts calling `onMessage` for `topic`; one listener per topic per broker, a
 *   second call replaces the first. Subscriptions survive reconnects of the broker's transport.
 * - `unsubscribe` stops it; unknown topics are a no-op.
 * - `close` releases what the broker holds; it does not close clients the application passed in.
 */
export interface Broker {
  publish(topic: string, bytes: Buffer): Promise<void>;
  subscribe(topic: string, onMessage: BrokerListener): Promise<void>;
  unsubscribe(topic: string): Promise<void>;
  close(): Promise<void>;
}
