// A published message framed once. Every subscriber is handed the same frame objects: the
// uncompressed frame, and with permessage-deflate one compressed copy per server window size
// for the subscribers that negotiated server_no_context_takeover (their inflater starts every
// message from an empty window, so one compression fits them all). A subscriber whose server
// side keeps its context gets the uncompressed frame: compressing for it alone would cost one
// zlib run per subscriber and tie its context to messages published to others.
import { Compressor } from '../extensions/compressor.js';
import { DEFAULT_LEVEL, DEFAULT_MEM_LEVEL, DEFAULT_THRESHOLD, type ValidDeflateOptions } from '../extensions/permessage-deflate.js';
import { FIN, OP_BINARY, OP_TEXT, RSV1 } from '../protocol/constants.js';
import type { EncodedFrame } from '../protocol/connection.js';
import { encodeFrame, frameHeaderSize } from '../protocol/frame-writer.js';

/** The share key of a subscriber that gets the uncompressed frame. */
export const UNCOMPRESSED = 0;

/** Frame bytes known at once. */
export class ReadyFrame implements EncodedFrame {
  constructor(readonly chunks: Buffer[], readonly size: number) {}
  whenReady(cb: () => void): void {
    cb();
  }
}

/** Frame bytes still being produced (a shared compression, or a batch waiting for its compressions). */
export class PendingFrame implements EncodedFrame {
  chunks: Buffer[] | null = null;
  private waiters: Array<() => void> = [];
  constructor(readonly size: number) {}

  whenReady(cb: () => void): void {
    if (this.chunks !== null) cb();
    else this.waiters.push(cb);
  }

  settle(chunks: Buffer[]): void {
    this.chunks = chunks;
    const waiters = this.waiters;
    this.waiters = [];
    for (const cb of waiters) cb();
  }
}

/** The compressors of one server's publishes, one per negotiated server window size. */
export class SharedDeflate {
  readonly threshold: number;
  private readonly level: number;
  private readonly memLevel: number;
  private readonly compressors = new Map<number, Compressor>();
  /** Shared compressions run (for tests and stats). */
  compressions = 0;

  constructor(options: ValidDeflateOptions) {
    this.threshold = options.threshold ?? DEFAULT_THRESHOLD;
    this.level = options.level ?? DEFAULT_LEVEL;
    this.memLevel = options.memLevel ?? DEFAULT_MEM_LEVEL;
  }

  /** Compress `payload` as one whole message with a fresh context; `fallback` goes out if zlib fails. */
  compress(windowBits: number, b0: number, payload: Buffer, fallback: Buffer[]): PendingFrame {
    const frame = new PendingFrame(payload.length);
    let c = this.compressors.get(windowBits);
    if (c === undefined) {
      // No context takeover: the zlib context is released after every message, so an idle
      // server holds no zlib memory for its publishes.
      c = new Compressor({ windowBits, noContextTakeover: true, level: this.level, memLevel: this.memLevel });
      this.compressors.set(windowBits, c);
    }
    const compressor = c;
    this.compressions++;
    compressor.compress(payload, true, (err, out) => {
      if (err) {
        // A failed compressor fails every later call: start afresh next time.
        if (this.compressors.get(windowBits) === compressor) this.compressors.delete(windowBits);
        compressor.dispose();
        frame.settle(fallback);
      } else {
        frame.settle(encodeFrame(b0 | RSV1, out!, false));
      }
    });
    return frame;
  }

  dispose(): void {
    for (const c of this.compressors.values()) c.dispose();
    this.compressors.clear();
  }
}

/** One published message: its frames, built on first need and then shared by every subscriber. */
export class PreparedMessage {
  private readonly b0: number;
  private plain: ReadyFrame | null = null;
  private compressed: Map<number, PendingFrame> | null = null;

  /** @param deflate the server's shared compressors, or null when this message goes uncompressed. */
  constructor(private readonly payload: Buffer, binary: boolean, private readonly deflate: SharedDeflate | null) {
    this.b0 = FIN | (binary ? OP_BINARY : OP_TEXT);
    if (deflate !== null && payload.length < deflate.threshold) this.deflate = null;
  }

  /** The payload's length (what a frame of it counts toward a send queue). */
  get size(): number {
    return this.payload.length;
  }

  /** The uncompressed frame's length on the wire. */
  get plainBytes(): number {
    return frameHeaderSize(this.payload.length, false) + this.payload.length;
  }

  /** The frame for a subscriber with this share key (a window size, or UNCOMPRESSED). */
  frameFor(share: number): EncodedFrame {
    if (share === UNCOMPRESSED || this.deflate === null) return this.uncompressed();
    const map = (this.compressed ??= new Map());
    let f = map.get(share);
    if (f === undefined) {
      f = this.deflate.compress(share, this.b0, this.payload, this.uncompressed().chunks);
      map.set(share, f);
    }
    return f;
  }

  private uncompressed(): ReadyFrame {
    return (this.plain ??= new ReadyFrame(encodeFrame(this.b0, this.payload, false), this.payload.length));
  }
}
