// The test's side of fixtures/broker-peer.ts: a Broker whose calls run in a child process (a
// cluster worker or a forked child), so the contract tests drive real processes.
import type { Broker, BrokerListener } from '../../lib/pubsub/broker.js';

/** What a remote needs of a Worker or ChildProcess. */
export interface Peer {
  send(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/** A failure inside the child, with the code its error had there. */
export class RemoteError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export class RemoteBroker implements Broker {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<number, BrokerListener>();
  /** Resolves with the child's pid once its broker exists. */
  readonly ready: Promise<number>;

  constructor(private readonly peer: Peer) {
    let ready!: (pid: number) => void;
    this.ready = new Promise((resolve) => (ready = resolve));
    peer.on('message', (m: unknown) => {
      const r = m as { ready?: number; reply?: number; value?: unknown; error?: { code: string; message: string }; event?: string; listener?: number; data?: string };
      if (typeof r !== 'object' || r === null) return;
      if (r.ready !== undefined) ready(r.ready);
      if (r.event === 'message') this.listeners.get(r.listener!)?.(Buffer.from(r.data!, 'base64'));
      if (r.reply === undefined) return;
      const p = this.pending.get(r.reply);
      this.pending.delete(r.reply);
      if (r.error) p?.reject(new RemoteError(r.error.code, r.error.message));
      else p?.resolve(r.value);
    });
  }

  /** Runs `cmd` in the child. */
  call(cmd: string, args: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.peer.send({ cmd, id, ...args });
    });
  }

  async publish(topic: string, bytes: Buffer): Promise<void> {
    await this.call('publish', { topic, data: bytes.toString('base64') });
  }

  async subscribe(topic: string, onMessage: BrokerListener): Promise<void> {
    const listener = this.nextId++;
    this.listeners.set(listener, onMessage);
    await this.call('subscribe', { topic, listener });
  }

  async unsubscribe(topic: string): Promise<void> {
    await this.call('unsubscribe', { topic });
  }

  async close(): Promise<void> {
    await this.call('close');
  }
}
