// The primary's half of ClusterBroker: it keeps which worker's broker subscribed to which topic
// and hands each published message to exactly those (the publisher's own broker included).
import type { Cluster, Worker } from 'node:cluster';
import { TAG, toRelay, type IpcPeer, type ToRelay, type ToWorker } from './cluster-ipc.js';

/** A relayed process: a cluster Worker or a forked ChildProcess (both say 'exit'). */
export type RelayPeer = IpcPeer & { once(event: 'exit', listener: () => void): unknown };

/** One broker in one worker. */
interface Subscriber {
  peer: IpcPeer;
  b: number;
}

/**
 * Relays ClusterBroker messages between processes. Made by `ClusterBroker.relay(cluster)` in a
 * cluster primary (every worker, present and future, is added), or `ClusterBroker.relay()` and
 * `add(child)` for each `child_process.fork()` child.
 */
export class ClusterRelay {
  /** topic -> the brokers subscribed to it */
  private readonly topics = new Map<string, Map<string, Subscriber>>();
  /** Each relayed peer: its number (part of its brokers' keys) and its 'message' listener. */
  private readonly peers = new Map<IpcPeer, { n: number; onMessage: (m: unknown) => void }>();
  private nextPeer = 0;
  private readonly detach: (() => void)[] = [];

  constructor(cluster?: Cluster) {
    if (cluster === undefined) return;
    for (const w of Object.values(cluster.workers ?? {})) if (w !== undefined) this.add(w as unknown as RelayPeer);
    const onFork = (w: Worker): void => this.add(w as unknown as RelayPeer);
    cluster.on('fork', onFork);
    this.detach.push(() => cluster.off('fork', onFork));
  }

  /** Relays for `peer` (a cluster Worker or a forked ChildProcess) until it exits or `remove(peer)`. */
  add(peer: RelayPeer): void {
    if (this.peers.has(peer)) return;
    const onMessage = (m: unknown): void => {
      const msg = toRelay(m);
      if (msg !== null) this.handle(peer, msg);
    };
    this.peers.set(peer, { n: this.nextPeer++, onMessage });
    peer.on('message', onMessage);
    peer.once('exit', () => this.remove(peer));
  }

  /** Stops relaying for `peer` and forgets its subscriptions. */
  remove(peer: IpcPeer): void {
    const entry = this.peers.get(peer);
    if (entry === undefined) return;
    peer.off('message', entry.onMessage);
    this.peers.delete(peer);
    for (const [topic, subs] of this.topics) {
      for (const [key, s] of subs) if (s.peer === peer) subs.delete(key);
      if (subs.size === 0) this.topics.delete(topic);
    }
  }

  /** How many brokers are subscribed to `topic` (for tests and metrics). */
  subscribers(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  /** Stops relaying for every peer. */
  close(): void {
    for (const peer of [...this.peers.keys()]) this.remove(peer);
    for (const d of this.detach.splice(0)) d();
  }

  private handle(peer: IpcPeer, msg: ToRelay): void {
    switch (msg.op) {
      case 'pub': {
        const subs = this.topics.get(msg.topic);
        if (subs === undefined) return;
        for (const s of subs.values()) send(s.peer, { tag: TAG, op: 'msg', b: s.b, topic: msg.topic, data: msg.data });
        return;
      }
      case 'sub': {
        let subs = this.topics.get(msg.topic);
        if (subs === undefined) this.topics.set(msg.topic, (subs = new Map()));
        subs.set(this.key(peer, msg.b), { peer, b: msg.b });
        break;
      }
      case 'unsub':
        this.drop(this.key(peer, msg.b), msg.topic);
        break;
      case 'close': {
        const key = this.key(peer, msg.b);
        for (const topic of [...this.topics.keys()]) this.drop(key, topic);
        break;
      }
    }
    send(peer, { tag: TAG, op: 'ack', b: msg.b, id: msg.id });
  }

  private drop(key: string, topic: string): void {
    const subs = this.topics.get(topic);
    if (subs === undefined) return;
    subs.delete(key);
    if (subs.size === 0) this.topics.delete(topic);
  }

  /** A broker's identity: its peer's number and its own number in that peer. */
  private key(peer: IpcPeer, b: number): string {
    return `${this.peers.get(peer)!.n}:${b}`;
  }
}

/** A worker that is exiting cannot be sent to any more: that is its loss, not the relay's error. */
function send(peer: IpcPeer, m: ToWorker): void {
  try {
    peer.send(m, () => {});
  } catch {
    // ERR_IPC_CHANNEL_CLOSED: the 'exit' that removes this peer is on its way.
  }
}
