/**
 * The sending half of permessage-deflate (RFC 7692 section 7.2.1): raw
 * DEFLATE, every fragment ended with Z_SYNC_FLUSH so the peer can inflate it
 * at once, and the 00 00 ff ff of the last flush removed from the message.
 * Without context takeover, a small whole message is compressed by one
 * synchronous zlib call (SYNC_INPUT_LIMIT, zlib-direction.ts).
 */

import type * as zlib from 'node:zlib'; // the module is loaded on first use (startup RSS: bench/RESULTS.md, "Streams analysis")
import { SYNC_INPUT_LIMIT, ZlibDirection, completeLater, type Callback } from './zlib-direction.js';

export interface CompressorOptions {
  /** Negotiated window for our direction, 8..15. */
  windowBits: number;
  /** Reset the context after every message (our side's *_no_context_takeover). */
  noContextTakeover: boolean;
  level: number;
  memLevel: number;
}

export class Compressor extends ZlibDirection<zlib.DeflateRaw> {
  private readonly zlibOptions: zlib.ZlibOptions;
  /** The same for a one-shot synchronous call: it ends with the same Z_SYNC_FLUSH, not Z_FINISH. */
  private readonly syncOptions: zlib.ZlibOptions;
  private readonly noContextTakeover: boolean;
  private chunks: Buffer[] = [];
  private length = 0;

  constructor(opts: CompressorOptions) {
    super();
    this.noContextTakeover = opts.noContextTakeover;
    this.zlibOptions = {
      // zlib refuses a raw deflate window of 8 bits (deflateInit2 returns
      // Z_STREAM_ERROR since 1.2.9; Node quietly turns 8 into 9). 9 is safe for
      // a peer that inflates with an 8-bit window: zlib's deflate never emits a
      // match farther back than MAX_DIST = 2^windowBits - MIN_LOOKAHEAD (262),
      // i.e. 250 bytes for 9 bits, inside a 256-byte window. test/extensions/
      // window-bits.test.ts checks this against an 8-bit inflater fed in small pieces.
      windowBits: Math.max(opts.windowBits, 9),
      level: opts.level,
      memLevel: opts.memLevel,
      flush: process.getBuiltinModule('node:zlib').constants.Z_SYNC_FLUSH,
    };
    this.syncOptions = { ...this.zlibOptions, finishFlush: this.zlibOptions.flush };
  }

  /** See MessageTransform.compress. */
  compress(data: Buffer, fin: boolean, cb: Callback): void {
    this.enqueue((done) => {
      if (this.failure) { completeLater(done, cb, this.failure); return; }
      // A whole small message on a fresh context (none is open mid-message): one zlib call here.
      if (fin && this.noContextTakeover && this.stream === null && data.length <= SYNC_INPUT_LIMIT) {
        this.compressNow(data, done, cb);
        return;
      }
      this.feed([data], (err) => {
        const out = this.take();
        if (err) {
          this.failure = err;
          this.release();
          done();
          cb(err);
          return;
        }
        if (fin && this.noContextTakeover) this.release();
        done();
        cb(null, fin ? stripFlushMarker(out) : out);
      });
    });
  }

  private compressNow(data: Buffer, done: () => void, cb: Callback): void {
    let out: Buffer;
    try {
      out = process.getBuiltinModule('node:zlib').deflateRawSync(data, this.syncOptions);
    } catch (err) {
      this.failure = err as Error;
      completeLater(done, cb, this.failure);
      return;
    }
    // The callback still comes later, as from zlib: callers never see it inside compress().
    completeLater(done, cb, null, stripFlushMarker(out));
  }

  protected open(): zlib.DeflateRaw {
    return process.getBuiltinModule('node:zlib').createDeflateRaw(this.zlibOptions);
  }

  protected onChunk(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  protected mapError(err: Error): Error {
    return err;
  }

  private take(): Buffer {
    const out = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    this.chunks = [];
    this.length = 0;
    return out;
  }
}

/**
 * RFC 7692 7.2.1: drop the 00 00 ff ff the final Z_SYNC_FLUSH appended. When
 * nothing was written since the previous fragment's flush, zlib outputs
 * nothing; the message must still end in a way that, after the receiver appends
 * 00 00 ff ff, forms a complete block: a lone 0x00 (the header byte of an empty
 * stored block, RFC 7692 7.2.3.6) does.
 */
function stripFlushMarker(out: Buffer): Buffer {
  const n = out.length;
  if (n >= 4 && out[n - 4] === 0x00 && out[n - 3] === 0x00 && out[n - 2] === 0xff && out[n - 1] === 0xff) {
    return out.subarray(0, n - 4);
  }
  // A fresh buffer each time: the frame writer may mask payloads in place.
  if (n === 0) return Buffer.from([0x00]);
  return out;
}
