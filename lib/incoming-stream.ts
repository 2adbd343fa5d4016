/**
 * Streamed receive: one incoming message as a Node Readable, fed piece by
 * piece while its frames still arrive (the core's per-fragment mode). A full
 * Readable stops the connection reading, so a message of any size passes
 * with memory bounded by the high-water marks.
 */
import { Readable, type Duplex } from 'node:stream';

/** How the stream tells its connection to stop and resume reading. */
export interface StreamFlow {
  pause(): void;
  resume(): void;
}

/** Pieces smaller than this are copied into a shared block rather than pushed one by one. */
const SMALL_PIECE = 4096;
/** The size of that block: a message of 1-byte frames is pushed in chunks of this size. */
const COALESCE_BLOCK = 16 * 1024;
/** The Readable's buffer above which reading stops. Not Node's 64 KiB default: socket reads come in
 *  64 KiB chunks, so every chunk would fill the stream and stop and restart the socket. */
export const MESSAGE_STREAM_HIGH_WATER_MARK = 1024 * 1024;

/**
 * One received message as it arrives: a Readable of Buffers (async-iterable),
 * ended when its last frame was read, destroyed with the error when the
 * connection fails or closes before that (a truncated message never ends
 * normally). Text is validated UTF-8 so far; use `setEncoding('utf8')` for
 * strings. Destroying it (or leaving it unread) skips the rest of the message
 * without stalling the connection (destroying) or stalls it (unread): read it,
 * `resume()` it to discard, or `destroy()` it.
 */
export class MessageStream extends Readable {
  /** Binary (true) or text (false) message. */
  readonly isBinary: boolean;
  private readonly flow: StreamFlow;
  private paused = false;
  private block: Buffer | null = null;
  private used = 0;
  private start = 0;
  private ended = false;

  /** @internal Built by the WebSocket for each message in `streamMessages` mode. */
  constructor(isBinary: boolean, flow: StreamFlow) {
    super({ highWaterMark: MESSAGE_STREAM_HIGH_WATER_MARK });
    this.isBinary = isBinary;
    this.flow = flow;
    // A consumer that gives up on the message must not leave the connection paused.
    this.once('close', () => this.release());
  }

  /** Whether the last piece has been fed (or the stream was destroyed): the next message may start. */
  get complete(): boolean {
    return this.ended || this.destroyed;
  }

  /** @internal The next piece (a slice of a received chunk; copied when small). */
  feed(piece: Buffer, fin: boolean): void {
    if (this.destroyed) return;
    if (piece.length < SMALL_PIECE) {
      this.copyIn(piece);
    } else {
      this.flush();
      this.send(piece);
    }
    if (fin) {
      this.flush();
      this.ended = true;
      this.push(null);
      // A stream read to its end releases on 'end'/'close'; an unread one keeps the connection paused.
      if (!this.paused) this.release();
    }
  }

  /** @internal Push the small pieces gathered so far (at the end of each received chunk). */
  flush(): void {
    if (this.block === null || this.used === this.start || this.destroyed) return;
    const chunk = this.block.subarray(this.start, this.used);
    if (this.used > COALESCE_BLOCK - SMALL_PIECE) this.block = null;
    else this.start = this.used;
    this.send(chunk);
  }

  override _read(): void {
    if (this.paused && !this.ended) this.release();
  }

  private copyIn(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.block === null || this.block.length - this.used < piece.length) {
      this.flush();
      this.block = Buffer.allocUnsafe(COALESCE_BLOCK);
      this.used = 0;
      this.start = 0;
    }
    piece.copy(this.block, this.used);
    this.used += piece.length;
  }

  private send(chunk: Buffer): void {
    if (!this.push(chunk) && !this.paused) {
      this.paused = true;
      this.flow.pause();
    }
  }

  private release(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flow.resume();
  }
}

/**
 * Destroy `stream` with `err` if someone listens for errors (for await,
 * pipeline() and finished() do; a bare pipe() does not); otherwise without it,
 * a premature close, so that what a peer does can never crash the process with
 * an unhandled 'error' (the WebSocket's own rule for its 'error' event).
 */
export function failStream(stream: Readable | Duplex, err: Error): void {
  stream.destroy(stream.listenerCount('error') > 0 ? err : undefined);
}
