// `rfcws serve --redis <url>`: a RedisBroker on two clients of the user's own `redis` package
// (node-redis v4+), loaded only when the flag is given, since rfcws itself depends on nothing.
import { RedisBroker, type NodeRedisClient } from '../pubsub/redis-broker.js';
import { UsageError } from './args.js';

/** The part of node-redis the CLI uses. */
interface RedisClient extends NodeRedisClient {
  connect(): Promise<unknown>;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  duplicate(overrides?: object): RedisClient;
  /** node-redis v5+ (v4: quit). */
  close?(): Promise<unknown>;
  quit(): Promise<unknown>;
}

const end = (clients: RedisClient[]): Promise<unknown> =>
  Promise.allSettled(clients.map(async (c) => (typeof c.close === 'function' ? c.close() : c.quit())));

/** `value` if it is a redis:// or rediss:// URL; a usage error otherwise. */
export function redisUrlOption(value: string): string {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (url === null || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    throw new UsageError('serve', `--redis takes a redis:// or rediss:// URL such as redis://127.0.0.1:6379 (got "${value}")`);
  }
  return value;
}

/**
 * Connects a publisher and a subscriber to `url` and makes the broker. The first connection
 * failing is an error (nothing to serve topics with); later outages reconnect every 0.1-2 s.
 * The publisher has no offline queue: during an outage a publish fails instead of waiting.
 */
export async function connectRedis(url: string, log: (line: string) => void): Promise<{ broker: RedisBroker; close: () => Promise<void> }> {
  const name = 'redis';
  let createClient: (options: object) => RedisClient;
  try {
    ({ createClient } = (await import(name)) as { createClient: typeof createClient });
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new UsageError('serve', '--redis needs the redis package beside rfcws: npm install redis');
  }
  let connected = false;
  const reconnectStrategy = (retries: number): number | false => (connected ? Math.min(100 * 2 ** retries, 2000) : false);
  const publisher = createClient({ url, name: 'rfcws-publisher', disableOfflineQueue: true, socket: { reconnectStrategy, connectTimeout: 5000 } });
  const subscriber = publisher.duplicate({ name: 'rfcws-subscriber', disableOfflineQueue: false });
  // Each client retries every 2 s during an outage, failing each time the same way: its error
  // is logged when it changes, and again only after the client was ready in between.
  for (const [role, c] of [['publisher', publisher], ['subscriber', subscriber]] as const) {
    let lastError = '';
    c.on('error', (err) => {
      const line = `redis ${role}: ${err.message || (err as { code?: string }).code || String(err)}`;
      if (connected && line !== lastError) log(line);
      lastError = line;
    });
    c.on('ready', () => (lastError = ''));
  }
  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
  } catch (err) {
    await end([publisher, subscriber]);
    const e = err as { message?: string; code?: string };
    throw new Error(`cannot connect to Redis at ${url}: ${e.message || e.code || String(err)}`);
  }
  connected = true;
  const broker = new RedisBroker({ publisher, subscriber });
  return {
    broker,
    close: async () => {
      await broker.close();
      await end([publisher, subscriber]);
    },
  };
}
