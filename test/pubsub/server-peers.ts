// The test's side of fixtures/server-peer.ts: servers with a broker in child processes (cluster
// workers or forked children), and clients that learn which server took them.
import { once } from 'node:events';
import { connect } from '../../lib/client/client.js';
import type { WebSocket } from '../../lib/websocket.js';
import { endpoint, type Endpoint } from '../helpers/exactly-once.js';
import type { Peer } from './remote-broker.js';

type Tap = { teardown(fn: () => unknown): void };

export interface ReportedError {
  code: string;
  operation: string;
  topic: string;
}

/** One server process. */
export class ServerPeer {
  private nextId = 0;
  private readonly pending = new Map<number, (v: unknown) => void>();
  readonly brokerErrors: ReportedError[] = [];
  private readonly errorWaiters: { n: number; resolve: () => void }[] = [];
  /** Resolves with its port and label once it listens. */
  readonly ready: Promise<{ port: number; label: string }>;

  constructor(private readonly peer: Peer) {
    let ready!: (v: { port: number; label: string }) => void;
    this.ready = new Promise((resolve) => (ready = resolve));
    peer.on('message', (m: unknown) => {
      const r = m as { listening?: number; label?: string; reply?: number; value?: unknown; brokerError?: ReportedError };
      if (typeof r !== 'object' || r === null) return;
      if (r.listening !== undefined) ready({ port: r.listening, label: r.label! });
      if (r.brokerError !== undefined) {
        this.brokerErrors.push(r.brokerError);
        for (const w of this.errorWaiters.filter((w) => this.brokerErrors.length >= w.n)) {
          this.errorWaiters.splice(this.errorWaiters.indexOf(w), 1);
          w.resolve();
        }
      }
      if (r.reply !== undefined) {
        this.pending.get(r.reply)?.(r.value);
        this.pending.delete(r.reply);
      }
    });
  }

  call(cmd: string, args: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.peer.send({ cmd, id, ...args });
    });
  }

  /** server.publish in that process; resolves with the local count. */
  publish(topic: string, data: string): Promise<number> {
    return this.call('publish', { topic, data }) as Promise<number>;
  }

  /** Resolves once `n` broker errors were reported in all. */
  errors(n: number): Promise<void> {
    if (this.brokerErrors.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.errorWaiters.push({ n, resolve }));
  }
}

/** A client of one of the servers: its log, and the label of the server that took it. */
export interface PeerClient extends Endpoint {
  ws: WebSocket;
  server: string;
  /** Subscribes (through its server) and resolves once that server's broker has the subscription. */
  sub(topic: string): Promise<void>;
}

export async function peerClient(t: Tap, port: number): Promise<PeerClient> {
  const ws = await connect(`ws://127.0.0.1:${port}/`, { keepAliveInterval: 0 });
  t.teardown(() => ws.terminate());
  const e = endpoint(ws);
  ws.send('who');
  const [hello] = (await once(ws, 'message')) as [Buffer];
  const client: PeerClient = {
    ...e,
    received: e.received,
    ws,
    server: String(hello).slice('hello '.length),
    sub: async (topic) => {
      ws.send(`sub ${topic}`);
      await e.until(`subscribed ${topic}`);
    },
  };
  return client;
}

/** Only the published messages in a log (the test's own start with `tag `). */
export const published = (log: string[], tag: string): string[] => log.filter((l) => l.startsWith(`${tag} `));
