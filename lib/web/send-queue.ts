/**
 * The WHATWG WebSocket's outgoing side over an open connection: messages leave in call order
 * although a Blob's bytes are read asynchronously (later sends wait behind it, and so does
 * close()), and `bufferedAmount` is counted as the standard defines it: payload bytes queued
 * by send() and not yet transmitted, growing without bound for sends after the closing
 * handshake started (those are discarded).
 *
 * While held (see WebSocket's message tasks), sends wait here in order and leave together on
 * release: the sends of a run of message tasks then reach the transport in one tick, so one
 * system call carries them instead of one per task.
 */
import type { WebSocket as Connection } from '../websocket.js';

interface Waiting {
  /** null while the Blob is being read. */
  data: Buffer | null;
  binary: boolean;
  size: number;
}

export class SendQueue {
  readonly #conn: Connection;
  readonly #waiting: Waiting[] = [];
  #waitingBytes = 0;
  /** Payload bytes handed to the connection and not yet known to have left for the network. */
  #inflight = 0;
  /** Of those, the bytes written to the transport that no flush watcher covers yet. */
  #unwatched = 0;
  #watchPending = false;
  /** Bytes of sends after the closing handshake started: never sent, still counted. */
  #discarded = 0;
  #closing = false;
  #close: { code: number | undefined; reason: string } | null = null;
  #held = false;

  constructor(conn: Connection) {
    this.#conn = conn;
  }

  /**
   * Payload bytes not yet transmitted: a message counts with its payload size (never its
   * compressed or framed size) until everything written up to it has been flushed to the
   * network; once the connection is closed, what it held is gone.
   */
  get bufferedAmount(): number {
    if (this.#conn.readyState === this.#conn.CLOSED) this.#inflight = 0;
    return this.#waitingBytes + this.#inflight + this.#discarded;
  }

  /** Whether close() was called: sends are discarded from now on. */
  get closing(): boolean {
    return this.#closing;
  }

  send(data: Buffer | Blob, binary: boolean, size: number): void {
    if (this.#closing || this.#conn.readyState !== this.#conn.OPEN) {
      this.#discarded += size;
      return;
    }
    if (this.#waiting.length === 0 && !this.#held && Buffer.isBuffer(data)) {
      this.#write(data, binary, size);
      return;
    }
    const item: Waiting = { data: Buffer.isBuffer(data) ? data : null, binary, size };
    this.#waiting.push(item);
    this.#waitingBytes += size;
    if (!Buffer.isBuffer(data)) {
      data.arrayBuffer().then(
        (bytes) => {
          item.data = Buffer.from(bytes);
          this.#pump();
        },
        // The Blob could not be read (a file that went away): the message cannot be sent as asked.
        () => this.#conn.terminate(),
      );
    }
  }

  /**
   * Keep sends waiting (in order, counted in bufferedAmount) until release(), and at the latest
   * until the event loop's next check phase, so a run that never ends cannot hold them longer.
   */
  hold(): void {
    if (this.#held) return;
    this.#held = true;
    setImmediate(() => this.release());
  }

  /** Hand what waits to the connection, in order (up to a Blob still being read). */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    this.#pump();
  }

  /** Start the closing handshake after everything sent before (Blobs included). */
  close(code: number | undefined, reason: string): void {
    this.#closing = true;
    this.#close = { code, reason };
    if (this.#waiting.length === 0) this.#conn.close(code, reason);
  }

  #pump(): void {
    if (this.#held) return;
    while (this.#waiting.length > 0 && this.#waiting[0]!.data !== null) {
      const item = this.#waiting.shift()!;
      this.#waitingBytes -= item.size;
      this.#write(item.data!, item.binary, item.size);
    }
    if (this.#waiting.length === 0 && this.#close !== null) this.#conn.close(this.#close.code, this.#close.reason);
  }

  #write(data: Buffer, binary: boolean, size: number): void {
    if (this.#conn.readyState !== this.#conn.OPEN) {
      this.#discarded += size;
      return;
    }
    this.#inflight += size;
    this.#conn.send(data, { binary }, (err) => this.#written(size, err));
  }

  /**
   * A message's frame was written to the transport (after its compression, if any). One flush
   * watcher per tick covers every message written in it: registered on the next tick, after the
   * transport's own per-tick flush, so it does not break up the batch.
   */
  #written(size: number, err: Error | undefined): void {
    if (err !== undefined) {
      // Never sent (the connection failed first).
      this.#inflight = Math.max(0, this.#inflight - size);
      return;
    }
    this.#unwatched += size;
    if (this.#watchPending) return;
    this.#watchPending = true;
    process.nextTick(() => {
      this.#watchPending = false;
      const covered = this.#unwatched;
      this.#unwatched = 0;
      this.#conn.whenFlushed(() => {
        this.#inflight = Math.max(0, this.#inflight - covered);
      });
    });
  }
}
