// The chat on several processes: `--workers N` runs N copies under node:cluster on one port
// (this process, the primary, relays topics between their ClusterBrokers), `--redis URL` joins
// this process (or each worker) to every other chat server on the same Redis.
import cluster from 'node:cluster';
// In your own project this import is `from 'rfcws'`.
import { ClusterBroker, RedisBroker, type Broker } from '../../lib/index.js';

export const isPrimary = (): boolean => cluster.isPrimary;

/** `@pid` when this is one chat server of several (a broker), so that guest names stay apart. */
export const tagOf = (broker: Broker | undefined): string => (broker === undefined ? '' : `@${process.pid}`);

/**
 * The primary of `--workers N`: forks the workers, prints `line(origin)` once all listen, stops
 * them on SIGINT/SIGTERM and exits when they are gone. It never resolves.
 */
export async function runPrimary(workers: number, line: (origin: string) => string): Promise<never> {
  ClusterBroker.relay(cluster);
  const all = Array.from({ length: workers }, () => cluster.fork());
  const origins = await Promise.all(all.map((w) => new Promise<string>((resolve) => {
    w.on('message', (m: { chatListening?: string }) => typeof m?.chatListening === 'string' && resolve(m.chatListening));
  })));
  for (const w of all) console.log(`worker ${w.id} (pid ${w.process.pid}) serves the chat`);
  console.log(line(origins[0]!));
  let left = all.length;
  cluster.on('exit', () => --left === 0 && process.exit(0));
  const stop = (): void => all.forEach((w) => w.process.kill('SIGTERM'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise<never>(() => {});
}

/** In a worker: tell the primary where it listens. */
export function reportListening(origin: string): void {
  process.send?.({ chatListening: origin });
}

/**
 * The broker of this chat server: Redis with `--redis` (two clients of the `redis` package: a
 * subscribed connection runs no other commands), else a ClusterBroker in a worker, else none.
 */
export async function chatBroker(redisUrl: string | undefined): Promise<{ broker?: Broker; close(): Promise<void> }> {
  if (redisUrl !== undefined) {
    const { createClient } = await import('redis');
    // No offline queue for the publisher: during an outage a publish fails (the server reports
    // it as 'brokerError') instead of being sent minutes later.
    const publisher = createClient({ url: redisUrl, disableOfflineQueue: true });
    const subscriber = publisher.duplicate({ disableOfflineQueue: false });
    for (const c of [publisher, subscriber]) c.on('error', (err: Error) => console.error(`redis: ${err.message}`));
    await Promise.all([publisher.connect(), subscriber.connect()]);
    const broker = new RedisBroker({ publisher, subscriber });
    return {
      broker,
      close: async () => {
        await broker.close();
        await Promise.allSettled([publisher.close(), subscriber.close()]);
      },
    };
  }
  if (cluster.isWorker) {
    const broker = new ClusterBroker();
    return { broker, close: () => broker.close() };
  }
  return { close: async () => {} };
}
