// `rfcws serve --workers N`: one server per core on one port. The primary forks N cluster
// workers running the same command line; each worker runs the ordinary server. With reusePort
// (Node >= 22.12 on Linux) each worker binds the port itself and the kernel spreads connections;
// otherwise the cluster primary accepts and hands connections round-robin to the workers.
import cluster, { type Worker } from 'node:cluster';
import { ClusterBroker } from '../pubsub/cluster-broker.js';

/** Set in the workers' environment by the primary. */
const MODE_ENV = 'RFCWS_LISTEN_MODE';
const PORT_ENV = 'RFCWS_LISTEN_PORT';
/** Marks the CLI's own messages from a worker (the ClusterBroker shares the channel). */
const TAG = 'rfcws-serve';

export type ListenMode = 'reusePort' | 'cluster';

/** Whether `net.Server#listen({ reusePort })` works here: Linux, and Node 22.12+ in 22.x or 23.1+. */
export function reusePortSupported(version = process.versions.node, platform: string = process.platform): boolean {
  if (platform !== 'linux') return false;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/** In a worker forked by {@link runWorkers}: its number, how it listens and on which port; null elsewhere. */
export function workerRole(): { id: number; mode: ListenMode; port: number } | null {
  if (!cluster.isWorker || cluster.worker === undefined) return null;
  return { id: cluster.worker.id, mode: process.env[MODE_ENV] === 'reusePort' ? 'reusePort' : 'cluster', port: Number(process.env[PORT_ENV]) };
}

/** A worker tells the primary the port it listens on. */
export function reportListening(port: number): void {
  process.send?.({ tag: TAG, listening: port });
}

function listeningPort(m: unknown): number | null {
  const r = m as { tag?: unknown; listening?: unknown } | null;
  return typeof r === 'object' && r !== null && r.tag === TAG && Number.isSafeInteger(r.listening) ? (r.listening as number) : null;
}

export interface PrimaryOptions {
  workers: number;
  port: number;
  log: (line: string) => void;
  /** Called once every worker listens, with the port they share. */
  listening: (port: number, mode: ListenMode) => void;
}

/**
 * The primary: forks `workers` workers (this same command line), stops them all on SIGINT or
 * SIGTERM and exits 0 once they are gone. A worker that dies on its own stops the rest, exit 1.
 */
export async function runWorkers(options: PrimaryOptions): Promise<void> {
  const mode: ListenMode = reusePortSupported() ? 'reusePort' : 'cluster';
  options.log(
    mode === 'reusePort'
      ? `Starting ${options.workers} workers; each binds the port with reusePort and the kernel spreads connections`
      : `Starting ${options.workers} workers under node:cluster; the primary hands connections round-robin to them (reusePort needs Node >= 22.12 on Linux)`,
  );
  // Topics between the workers' ClusterBrokers go through this process.
  ClusterBroker.relay(cluster);
  const all: Worker[] = [];
  let stopping = false;
  let failed = false;
  const exited = new Set<Worker>();
  const stopAll = (): void => {
    stopping = true;
    for (const w of all) if (!exited.has(w)) w.process.kill('SIGTERM');
  };
  const finished = new Promise<void>((resolve) => {
    cluster.on('exit', (w, code, signal) => {
      exited.add(w);
      if (!stopping) {
        failed = true;
        options.log(`worker ${w.id} (pid ${w.process.pid}) exited on its own (${signal ?? `code ${code}`}): stopping the others`);
        stopAll();
      } else if (code !== 0) failed = true;
      if (exited.size === all.length) resolve();
    });
  });
  const fork = (port: number): Promise<number> => {
    const w = cluster.fork({ [MODE_ENV]: mode, [PORT_ENV]: String(port) });
    all.push(w);
    return new Promise((resolve, reject) => {
      const onMessage = (m: unknown): void => {
        const p = listeningPort(m);
        if (p === null) return;
        w.off('message', onMessage);
        options.log(`worker ${w.id} (pid ${w.process.pid}) listening`);
        resolve(p);
      };
      w.on('message', onMessage);
      w.once('exit', () => reject(new Error(`worker ${w.id} exited before it listened`)));
    });
  };
  const onSignal = (): void => {
    if (stopping) return;
    options.log(`Shutting down: stopping ${all.length} workers`);
    stopAll();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // reusePort: every worker binds for itself, so port 0 must become a real port first; under
    // node:cluster the primary holds the one socket, and listen(0) in every worker shares it.
    const first = fork(options.port);
    const port = mode === 'reusePort' ? await first : options.port;
    const ports = await Promise.all([first, ...Array.from({ length: options.workers - 1 }, () => fork(port))]);
    options.listening(ports[0]!, mode);
  } catch (err) {
    if (!stopping) {
      options.log(`${(err as Error).message}: stopping the others`);
      failed = true;
      stopAll();
    }
  }
  await finished;
  process.exit(failed ? 1 : 0);
}
