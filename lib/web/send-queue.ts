/**
 * The WHATWG WebSocket's outgoing side over an open connection: messages leave in call order
 * although a Blob's bytes are read asynchronously (later sends wait behind it, and so does
 * close()), and `bufferedAmount` is counted as the standard defines it: payload bytes queued
 * by send() and not yet transmitted, growing without bound for sends after the closing
 * handshake started (those are discarded).
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
  /** Payload bytes handed to the connection that may not have left yet (an upper bound, see bufferedAmount). */
  #inflight = 0;
  /** Bytes of sends after the closing handshake started: never sent, still counted. */
  #discarded = 0;
  #closing = false;
  #close: { code: number | undefined; reason: string } | null = null;

  constructor(conn: Connection) {
    this.#conn = conn;
  }

  /**
   * Payload bytes not yet transmitted. The connection counts wire bytes (frame headers and
   * control frames included) not yet handed to the kernel, so the payload still waiting is
   * at most that: exact right after send() (everything written this task is counted) and
   * once all has left (0), an upper bound in between.
   */
  get bufferedAmount(): number {
    const wire = this.#conn.bufferedAmount;
    if (this.#inflight > wire) this.#inflight = wire;
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
    if (this.#waiting.length === 0 && Buffer.isBuffer(data)) {
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

  /** Start the closing handshake after everything sent before (Blobs included). */
  close(code: number | undefined, reason: string): void {
    this.#closing = true;
    this.#close = { code, reason };
    if (this.#waiting.length === 0) this.#conn.close(code, reason);
  }

  #pump(): void {
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
    this.#conn.send(data, { binary });
    this.#inflight += size;
  }
}
