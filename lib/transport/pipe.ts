/**
 * Two transports joined in memory: what one writes, the other receives. It
 * lets everything above the protocol core (the WebSocket class, streams,
 * reconnect, topics) be tested without TCP, with the same backpressure a
 * socket gives: bytes a side has written stay counted in its
 * `writableLength` until the other side has consumed them, so a peer that
 * pauses reading makes the writer's buffer fill and `write()` return false.
 */
import type { TlsInfo, Transport, TransportListener } from './transport.js';

export interface PipeOptions {
  /** Bytes in flight per direction at which `write()` starts returning false. Default 16 KiB, like a socket. */
  highWaterMark?: number;
}

/** A connected pair: `[a, b]`, each the other's peer. */
export function createPipe(options: PipeOptions = {}): [PipeTransport, PipeTransport] {
  const hwm = options.highWaterMark ?? 16 * 1024;
  const a = new PipeTransport(hwm);
  const b = new PipeTransport(hwm);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** One end of {@link createPipe}. */
export class PipeTransport implements Transport {
  readonly remoteAddress: string | undefined = undefined;
  readonly remotePort: number | undefined = undefined;
  readonly tls: TlsInfo | null = null;
  /** @internal */
  peer!: PipeTransport;
  private listener: TransportListener | null = null;
  /** Chunks the peer wrote that our listener has not been given yet. */
  private inbox: Buffer[] = [];
  private inboxBytes = 0;
  private readingPaused = false;
  private deliveryScheduled = false;
  private needDrain = false;
  private ended = false;
  private closed = false;
  private flushWaiters: Array<() => void> = [];

  constructor(private readonly highWaterMark: number) {}

  bind(listener: TransportListener): void {
    this.listener = listener;
    if (this.closed) setImmediate(() => listener.onTransportClose());
    else this.scheduleDelivery();
  }

  write(chunks: Buffer[]): boolean {
    if (this.closed || this.ended) return true;
    const peer = this.peer;
    for (const chunk of chunks) {
      if (chunk.length === 0) continue;
      // The writer may reuse its buffers once write() returns, as with a socket that copied them to the kernel.
      peer.inbox.push(Buffer.from(chunk));
      peer.inboxBytes += chunk.length;
    }
    peer.scheduleDelivery();
    if (peer.inboxBytes >= this.highWaterMark) this.needDrain = true;
    return !this.needDrain;
  }

  end(): void {
    if (this.closed || this.ended) return;
    this.ended = true;
    // Like a socket without allowHalfOpen: once the peer has read our last byte, both sides close.
    this.peer.scheduleDelivery();
  }

  destroy(): void {
    if (this.closed) return;
    this.inbox = [];
    this.inboxBytes = 0;
    this.peer.inbox = [];
    this.peer.inboxBytes = 0;
    this.close();
    this.peer.close();
  }

  pauseReading(): void {
    this.readingPaused = true;
  }

  resumeReading(): void {
    if (!this.readingPaused) return;
    this.readingPaused = false;
    this.scheduleDelivery();
  }

  get writableLength(): number {
    return this.peer.inboxBytes;
  }

  get writableNeedDrain(): boolean {
    return this.needDrain;
  }

  whenFlushed(cb: () => void): void {
    if (this.closed) return;
    if (this.peer.inboxBytes === 0) queueMicrotask(cb);
    else this.flushWaiters.push(cb);
  }

  private scheduleDelivery(): void {
    if (this.deliveryScheduled || this.closed || this.listener === null) return;
    this.deliveryScheduled = true;
    // A macrotask, as socket data arrives: what a write triggers never runs inside that write.
    setImmediate(deliver, this);
  }

  /** @internal */
  deliver(): void {
    this.deliveryScheduled = false;
    const listener = this.listener;
    if (this.closed || listener === null) return;
    while (!this.readingPaused && this.inbox.length > 0 && !this.closed) {
      const chunk = this.inbox.shift()!;
      this.inboxBytes -= chunk.length;
      listener.onData(chunk);
    }
    const writer = this.peer;
    if (this.inboxBytes === 0 && writer.flushWaiters.length > 0) {
      const waiters = writer.flushWaiters;
      writer.flushWaiters = [];
      for (const cb of waiters) cb();
    }
    if (writer.needDrain && this.inboxBytes < writer.highWaterMark) {
      writer.needDrain = false;
      writer.listener?.onDrain();
    }
    if (this.inboxBytes === 0 && writer.ended && !this.closed) {
      this.close();
      writer.close();
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flushWaiters = [];
    setImmediate(() => this.listener?.onTransportClose());
  }
}

function deliver(t: PipeTransport): void {
  t.deliver();
}
