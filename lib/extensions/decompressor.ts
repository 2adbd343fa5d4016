/**
 * The receiving half of permessage-deflate (RFC 7692 section 7.2.2): append
 * 00 00 ff ff at the end of a message and raw-inflate, fragment by fragment.
 * The inflated size is checked as zlib produces output (16 KiB at a time), so a
 * bomb is stopped within one chunk past `maxPayload`, never fully inflated.
 * Streamed (decompressStream), output goes to a sink as zlib produces it, held
 * back while the consumer is full (pauseOutput), under a per-message limit.
 *
 * When the peer keeps no context, a small whole message is inflated by one
 * synchronous zlib call (SYNC_INPUT_LIMIT compressed bytes, zlib-direction.ts);
 * its output is capped at SYNC_INFLATE_OUTPUT, past which the message takes the
 * stream (so a bomb costs the event loop at most that much inflating).
 */

import type * as zlib from 'node:zlib'; // the module is loaded on first use (startup RSS: bench/RESULTS.md, "Streams analysis")
import { ProtocolError } from '../errors.js';
import { SYNC_INPUT_LIMIT, ZlibDirection, completeLater, type Callback } from './zlib-direction.js';

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** Inflated bytes one synchronous call may produce; a larger message is inflated by the stream. */
export const SYNC_INFLATE_OUTPUT = 256 * 1024;
const EMPTY = Buffer.alloc(0);

export interface DecompressorOptions {
  /** The peer's negotiated window, 8..15 (zlib inflates with an 8-bit raw window fine). */
  windowBits: number;
  /** The peer resets its context per message (the peer's *_no_context_takeover). */
  noContextTakeover: boolean;
  /** Largest inflated message in bytes; 0 = no limit. */
  maxPayload: number;
}

export class Decompressor extends ZlibDirection<zlib.InflateRaw> {
  private readonly windowBits: number;
  private readonly noContextTakeover: boolean;
  private readonly maxPayload: number;
  /** Bytes written to the current zlib stream (compared with what it consumed). */
  private fed = 0;
  /** The zlib stream reached the end of a final (BFINAL) block. */
  private streamEnded = false;
  /** That happened at the end of the current message (see checkConsumed). */
  private streamEndedAtMessageEnd = false;
  /** History for the next zlib stream after a BFINAL-terminated message. */
  private dictionary: Buffer | undefined;

  // The message being inflated.
  private chunks: Buffer[] = [];
  private outLength = 0;
  private inLength = 0;
  /** Last 4 compressed bytes of the message so far (fragments may be tiny). */
  private readonly tail = Buffer.alloc(4);

  constructor(opts: DecompressorOptions) {
    super();
    this.windowBits = opts.windowBits;
    this.noContextTakeover = opts.noContextTakeover;
    this.maxPayload = opts.maxPayload > 0 ? opts.maxPayload : Infinity;
  }

  // Streamed inflate (decompressStream): where output goes, the message's limit, and the
  // latest output (a window's worth) for a dictionary after a BFINAL-terminated message.
  private sink: ((chunk: Buffer) => void) | null = null;
  private limit = Infinity;
  private limitName = 'maxPayload';
  private recent: Buffer[] = [];
  private recentBytes = 0;

  /** See MessageTransform.decompress. */
  decompress(data: Buffer, fin: boolean, cb: Callback): void {
    this.step(data, fin, null, this.maxPayload, 'maxPayload', cb);
  }

  /** See MessageTransform.decompressStream. */
  decompressStream(data: Buffer, fin: boolean, limit: number, onData: (chunk: Buffer) => void, cb: Callback): void {
    this.step(data, fin, onData, limit, 'maxStreamPayload', cb);
  }

  private step(data: Buffer, fin: boolean, sink: ((chunk: Buffer) => void) | null, limit: number, limitName: string, cb: Callback): void {
    this.enqueue((done) => {
      if (this.failure) { completeLater(done, cb, this.failure); return; }
      this.sink = sink;
      this.limit = limit;
      this.limitName = limitName;
      this.trackTail(data);
      // A compressed message with no payload at all carries no DEFLATE block;
      // feeding only the trailer would leave zlib in the middle of a block.
      if (data.length === 0 && (!fin || this.inLength === 0)) {
        completeLater(done, cb, null, fin ? this.finishMessage() : undefined);
        return;
      }
      // A peer that left the flush marker in place is already on a block
      // boundary; appending another would start an incomplete stored block.
      const appendTrailer = fin && !(this.inLength >= 4 && this.tail.equals(TRAILER));
      const inputs = appendTrailer ? [data, TRAILER] : [data];
      // A whole small message from a peer that keeps no context: one zlib call here.
      if (fin && sink === null && this.noContextTakeover && this.stream === null && this.inLength === data.length &&
          data.length <= SYNC_INPUT_LIMIT && this.inflateNow(inputs, appendTrailer, done, cb)) {
        return;
      }
      this.fed += data.length + (appendTrailer ? TRAILER.length : 0);
      this.feed(inputs, (err) => {
        if (!err) err = this.checkConsumed(fin, appendTrailer);
        if (err) {
          this.failure = err;
          this.release();
          this.chunks = [];
          done();
          cb(err);
          return;
        }
        const out = fin ? this.finishMessage() : undefined;
        done();
        cb(null, out);
      });
    });
  }

  /**
   * Inflate a whole message synchronously; false when it inflates past SYNC_INFLATE_OUTPUT while
   * its limit is higher (the stream takes it then, from the start). The callback comes later.
   */
  private inflateNow(inputs: Buffer[], appendedTrailer: boolean, done: () => void, cb: Callback): boolean {
    const z = process.getBuiltinModule('node:zlib');
    const input = inputs.length === 1 ? inputs[0]! : Buffer.concat(inputs);
    const cap = Math.min(this.limit, SYNC_INFLATE_OUTPUT);
    let err: Error | null = null;
    let out: Buffer | undefined;
    try {
      const r = z.inflateRawSync(input, { windowBits: this.windowBits, finishFlush: z.constants.Z_SYNC_FLUSH, maxOutputLength: cap, info: true }) as unknown as
        { buffer: Buffer; engine: { bytesWritten: number } };
      // As checkConsumed: input left after a final block may only be our trailer and one byte.
      if (input.length - r.engine.bytesWritten > (appendedTrailer ? TRAILER.length : 0) + 1) {
        err = new ProtocolError(1007, 'Invalid compressed data: bytes after the final DEFLATE block');
      } else {
        out = r.buffer;
      }
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE') err = this.mapError(e as Error);
      else if (this.limit > SYNC_INFLATE_OUTPUT) return false;
      else err = new ProtocolError(1009, `Inflated message exceeds ${this.limitName} (${this.limit} bytes)`);
    }
    this.inLength = 0;
    this.tail.fill(0);
    if (err !== null) this.failure = err;
    completeLater(done, cb, err, out);
    return true;
  }

  override dispose(): void {
    super.dispose();
    this.chunks = [];
    this.recent = [];
    this.sink = null;
  }

  protected open(): zlib.InflateRaw {
    const inflate = process.getBuiltinModule('node:zlib').createInflateRaw({
      windowBits: this.windowBits, dictionary: this.dictionary, flush: process.getBuiltinModule('node:zlib').constants.Z_SYNC_FLUSH,
    });
    this.dictionary = undefined;
    // Node ends the readable side when zlib stops taking input after a final block.
    inflate.on('end', () => {
      if (this.stream === inflate) this.streamEnded = true;
    });
    return inflate;
  }

  protected override release(): void {
    super.release();
    this.fed = 0;
    this.streamEnded = false;
  }

  protected onChunk(chunk: Buffer): void {
    this.outLength += chunk.length;
    if (this.outLength > this.limit) {
      // Stop now: the step's failure closes the stream, which keeps Node from
      // scheduling the next 16 KiB of inflation; memory stays at the limit + one chunk.
      this.fail(new ProtocolError(1009, `Inflated message exceeds ${this.limitName} (${this.limit} bytes)`));
      return;
    }
    if (this.sink === null) {
      this.chunks.push(chunk);
      return;
    }
    if (!this.noContextTakeover) this.keepRecent(chunk);
    this.sink(chunk);
  }

  protected mapError(err: Error): Error {
    return new ProtocolError(1007, `Invalid compressed data: ${err.message}`);
  }

  /**
   * zlib stops consuming input after a block with BFINAL set. RFC 7692 7.2.3.4
   * lets a sender end a message that way; its algorithm (7.2.1) then appends an
   * empty stored block and strips 00 00 ff ff, so up to one byte plus our own
   * trailer is left over. That is accepted at the end of a message (the next
   * message needs a new zlib stream); anything more, or a final block before the
   * last fragment, is corrupt.
   */
  private checkConsumed(fin: boolean, appendedTrailer: boolean): ProtocolError | null {
    const unconsumed = this.fed - this.stream!.bytesWritten;
    if (unconsumed === 0 && !this.streamEnded) return null;
    if (!fin || unconsumed > (appendedTrailer ? TRAILER.length : 0) + 1) {
      return new ProtocolError(1007, 'Invalid compressed data: bytes after the final DEFLATE block');
    }
    this.streamEndedAtMessageEnd = true;
    return null;
  }

  /** Streamed: keep references to the latest output covering one window. */
  private keepRecent(chunk: Buffer): void {
    const window = 1 << this.windowBits;
    this.recent.push(chunk);
    this.recentBytes += chunk.length;
    while (this.recentBytes - this.recent[0]!.length >= window) this.recentBytes -= this.recent.shift()!.length;
  }

  private finishMessage(): Buffer {
    const streamed = this.sink !== null;
    // Streamed, the message was handed out already; only its latest window is at hand.
    const out = streamed ? EMPTY : this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.outLength);
    const recent = this.recent;
    const recentBytes = this.recentBytes;
    this.chunks = [];
    this.recent = [];
    this.recentBytes = 0;
    this.outLength = 0;
    this.inLength = 0;
    this.tail.fill(0);
    if (this.noContextTakeover) {
      this.release();
    } else if (this.streamEndedAtMessageEnd) {
      // Context takeover across a BFINAL-terminated message: a fresh stream primed
      // with this message's tail. History from earlier messages is not kept (it
      // would cost a window-sized copy per message for a case no known peer uses);
      // a reference into it fails as corrupt data (1007).
      this.release();
      const window = 1 << this.windowBits;
      const last = streamed ? Buffer.concat(recent, recentBytes) : out;
      // Copied: `out` now belongs to the application, which may modify it.
      this.dictionary = last.length > 0 ? Buffer.from(last.subarray(Math.max(0, last.length - window))) : undefined;
    }
    this.streamEndedAtMessageEnd = false;
    return out;
  }

  private trackTail(data: Buffer): void {
    this.inLength += data.length;
    if (data.length >= 4) {
      data.copy(this.tail, 0, data.length - 4);
    } else if (data.length > 0) {
      this.tail.copyWithin(0, data.length);
      data.copy(this.tail, 4 - data.length);
    }
  }
}
