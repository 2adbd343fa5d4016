/**
 * The RFC 6455 state machine, sans I/O: received bytes in -> handler events
 * out; send/ping/pong/close in -> bytes out through handler.write. No sockets,
 * timers or promises: the transport (lib/transport) owns those.
 */
import { InvalidArgumentError, InvalidStateError, ProtocolError } from '../errors.js';
import { closeCodePayload, decodeClosePayload, encodeClosePayload } from './close.js';
import {
  DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD, FIN, MAX_CONTROL_PAYLOAD, OP_BINARY, OP_CLOSE, OP_CONTINUATION,
  OP_PING, OP_PONG, OP_TEXT, RSV1,
} from './constants.js';
import type { MessageTransform } from './extension.js';
import { FrameParser, HALT_BUSY, HALT_PAUSED, type FrameSink } from './frame-parser.js';
import { writeFrameTo } from './frame-writer.js';
import { isValidUtf8, UTF8_ACCEPT, UTF8_REJECT, utf8Feed } from './utf8.js';

/** What a Connection reports to its owner (the WebSocket class over a transport). */
export interface ConnectionHandler {
  /** Bytes to put on the wire, in order. Called synchronously from send/ping/close/receive.
   *  Chunks may reference user buffers (unmasked server frames): write them, don't keep them.
   *  Return false when the transport is above its high-water mark; call `drained()` when it
   *  falls back (pongs are then collapsed into one, see the class comment). `shared`: a frame
   *  encoded once for many connections (sendEncoded), as for Transport.write. */
  write(chunks: Buffer[], shared?: boolean): boolean | void;
  /** Optional: write one frame, the same bytes as `write(encodeFrame(b0, payload, masked))`
   *  (lib/protocol/frame-writer.ts), for an owner that encodes frames into its own buffers. */
  writeFrame?(b0: number, payload: Buffer, masked: boolean): boolean | void;
  /** A complete, validated message (text is valid UTF-8, delivered as a Buffer). */
  onMessage(data: Buffer, isBinary: boolean): void;
  /** A ping arrived; its pong is already written or owed. */
  onPing(payload: Buffer): void;
  /** A pong arrived. */
  onPong(payload: Buffer): void;
  /** The peer's close frame arrived and was valid. code 1005 + '' when it had no payload. If we
   *  had not sent a close yet, the echo close (same code; empty payload if peer sent none) has
   *  been written or queued behind pending compressed sends: `onCloseWritten` says when it
   *  leaves. After this the connection ignores any further input. */
  onCloseFrame(code: number, reason: string): void;
  /** Our close frame was handed to `write` (after everything queued before it). */
  onCloseWritten(): void;
  /** The peer violated the protocol or a limit (or local compression failed: 1011). A close
   *  frame with err.closeCode was written (unless one was already written); input processing
   *  has stopped. The transport closes. */
  onFail(err: ProtocolError): void;
  /** Whether the transport should read now: false while paused or while more than
   *  RECEIVE_HIGH_WATER_MARK bytes wait unparsed; true once they fall under half of it. */
  setReading(on: boolean): void;
  /** With `perFragment`: an uncompressed message starts; onMessageData calls follow, the last with `fin`. */
  onMessageStart?(isBinary: boolean): void;
  /** With `perFragment`: the next piece of the current message (a slice of a received chunk; don't modify it). */
  onMessageData?(chunk: Buffer, fin: boolean): void;
}

/** Options of a Connection. */
export interface ConnectionOptions {
  /** 'server' expects masked frames and sends unmasked ones; 'client' the reverse. */
  role: 'server' | 'client';
  /** Max message size in bytes (all fragments; inflated size when compressed). Default 64 MiB.
   *  Exceeding it fails the connection with 1009 before the payload is buffered.
   *  Validated by lib/options.ts, like every option here. */
  maxPayload?: number;
  /** Max frames per message. Default 2^20 (Autobahn 9.3.1 sends 65,536). Exceeding it: 1009. */
  maxFragments?: number;
  /** Negotiated per-message transform (permessage-deflate) or null. Enables RSV1. */
  transform?: MessageTransform | null;
  /** Hand messages to onMessageStart/onMessageData as their frames arrive (streamed receive)
   *  instead of onMessage. Compressed ones are inflated piece by piece as well when the transform
   *  has decompressStream (permessage-deflate does), otherwise they come whole through onMessage. */
  perFragment?: boolean;
  /** With `perFragment`: the size limit of messages streamed that way. Default maxPayload. */
  maxStreamPayload?: number;
}

/** Options of {@link Connection.send}. */
export interface SendOptions {
  /** false: more fragments of this message follow (streamed send). Default true. */
  fin?: boolean;
  /** Compress with the transform (default true when one exists). Decided by the first fragment. */
  compress?: boolean;
}

type SendCallback = (err?: Error) => void;

/**
 * The bytes of one whole data frame encoded once for many connections (a published message,
 * lib/pubsub): never masked, so for the server role only. `chunks` is null while a shared
 * compression still runs; the frame then waits in the send queue, in order with everything
 * else, until `whenReady` calls back.
 */
export interface EncodedFrame {
  readonly chunks: Buffer[] | null;
  /** Bytes counted in `pendingSendBytes` while the frame waits (its payload size). */
  readonly size: number;
  /** Call `cb` once `chunks` is set (only asked while it is null). */
  whenReady(cb: () => void): void;
}

/** One frame waiting behind a pending compression. */
interface OutFrame {
  b0: number;
  payload: Buffer | null;
  /** Bytes counted in pendingSendBytes (input size for data frames, payload size for control). */
  size: number;
  ready: boolean;
  err: Error | null;
  cb: SendCallback | undefined;
  /** A frame encoded elsewhere (sendEncoded), written as is. */
  encoded: EncodedFrame | null;
}

const EMPTY = Buffer.alloc(0);
/** Compressed fragment bytes gathered before one inflate call. */
const COMPRESSED_BATCH = 16 * 1024;
/** Received bytes waiting unparsed above which the transport stops reading (resumes under half). */
export const RECEIVE_HIGH_WATER_MARK = 1024 * 1024;

/**
 * One WebSocket connection's protocol state (RFC 6455 sections 5-7).
 *
 * Decisions worth knowing:
 * - send() after close()/a received close/fail()/destroy(): InvalidStateError, passed to `cb`
 *   when one is given (synchronously), thrown otherwise.
 * - ping()/pong() after our close are silently dropped (nothing may follow a close frame).
 * - After close() the connection keeps parsing and delivering until the peer's close (half-close).
 * - Pong policy: every ping is answered, and at most one pong is owed at any time. While frames
 *   wait behind a compression, or while the transport is above its write mark, a new ping only
 *   replaces the payload of the pong still owed (RFC 6455 5.5.3 allows answering only the
 *   latest), so a ping flood cannot grow any queue, whatever stalls the send path.
 * - Read flow: the connection tells its owner when to stop and resume reading (setReading):
 *   while paused, and while unparsed input passes RECEIVE_HIGH_WATER_MARK (a frame waiting
 *   for an inflate, a paused consumer), so the transport pushes back on the peer.
 * - `bufferedAmount` counts received bytes not yet parsed; bytes of a partly received message
 *   are not counted (they cannot be released by pausing, so counting them could deadlock a
 *   transport that stops reading above a mark).
 */
export class Connection implements FrameSink {
  // The fields a send reads come first, together (see the same note in websocket.ts).
  private readonly handler: ConnectionHandler;
  private readonly maskOut: boolean;
  private _closeSent = false;
  private destroyed = false;
  // Outgoing streamed message state.
  private outOpen = false;
  /** The transport said it is above its write mark (write returned false) and has not drained. */
  private blocked = false;
  // Frames held back behind a pending compression, in send order.
  private queue: Array<OutFrame | undefined> = [];
  private qHead = 0;
  private _pendingSendBytes = 0;

  private readonly parser: FrameParser;
  private readonly transform: MessageTransform | null;
  private _closeWritten = false;
  private _closeReceived = false;
  private failed = false;
  /** A pong owed while blocked (copied: the ping's payload is a slice of a read buffer). */
  private owedPong: Buffer | null = null;
  /** Whether the owner was last told to read. */
  private reading = true;
  private holdReading = false;
  /** Small compressed fragments waiting to be inflated together (see onCompressedFrame). */
  private zBatch: Buffer[] | null = null;
  private zBatchBytes = 0;
  /** Compressed messages are inflated as streams (perFragment + transform.decompressStream). */
  private readonly zStreamed: boolean;
  private readonly maxStreamPayload: number;
  /** A streamed compressed message is open; its UTF-8 state when text. */
  private zOpen = false;
  private zText = false;
  /** Its UTF-8 state (utf8.ts), a number: no validator object per connection. */
  private zUtf8 = UTF8_ACCEPT;

  private outCompressed = false;
  private flushing = false;
  private queuedPong: OutFrame | null = null;

  constructor(handler: ConnectionHandler, options: ConnectionOptions) {
    if (options.role !== 'server' && options.role !== 'client') {
      throw new InvalidArgumentError(`role must be 'server' or 'client', not ${String(options.role)}`);
    }
    this.handler = handler;
    this.transform = options.transform ?? null;
    this.maskOut = options.role === 'client';
    this.zStreamed = options.perFragment === true && typeof this.transform?.decompressStream === 'function';
    this.maxStreamPayload = options.maxStreamPayload ?? options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.parser = new FrameParser(this, {
      expectMasked: options.role === 'server',
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      maxFragments: options.maxFragments ?? DEFAULT_MAX_FRAGMENTS,
      allowRsv1: this.transform !== null,
      perFragment: options.perFragment === true,
      maxStreamPayload: options.maxStreamPayload,
      perFragmentCompressed: this.zStreamed,
    });
  }

  /** Feed received bytes (any chunking). May call handler methods synchronously. */
  receive(chunk: Buffer): void {
    this.parser.push(chunk);
    if (this.parser.bufferedAmount >= RECEIVE_HIGH_WATER_MARK) this.updateReading();
  }

  /**
   * Stop parsing and delivering; received bytes are kept. With `stopReading`
   * (default) the owner is also told to stop reading at once; without it,
   * reading stops only when unparsed input reaches the mark (a short hold,
   * such as the tick before the first listeners are attached).
   */
  pause(stopReading = true): void {
    this.parser.halt |= HALT_PAUSED;
    this.holdReading = stopReading;
    this.updateReading();
  }

  /** Continue parsing (synchronously) after pause(). */
  resume(): void {
    const parser = this.parser;
    if ((parser.halt & HALT_PAUSED) === 0) return;
    parser.halt &= ~HALT_PAUSED;
    this.holdReading = false;
    if (this.zOpen) this.transform!.resumeOutput?.();
    if (parser.halt === 0) parser.run();
    this.updateReading();
  }

  /** The transport fell back under its write mark: write the pong owed, if any. */
  drained(): void {
    this.blocked = false;
    const pong = this.owedPong;
    if (pong === null) return;
    this.owedPong = null;
    this._pendingSendBytes -= pong.length;
    if (!this._closeSent && !this.destroyed) this.queuedPong = this.emit(FIN | OP_PONG, pong, pong.length, undefined);
  }

  /** Whether pause() is in effect. */
  get paused(): boolean {
    return (this.parser.halt & HALT_PAUSED) !== 0;
  }

  /** Received bytes not yet parsed (see the class comment). */
  get bufferedAmount(): number {
    return this.parser.bufferedAmount;
  }

  /** Whether our close frame was sent or queued (close(), echo, or fail()). */
  get closeSent(): boolean {
    return this._closeSent;
  }

  /** Whether the peer's valid close frame arrived. */
  get closeReceived(): boolean {
    return this._closeReceived;
  }

  /** Whether our close frame has been handed to the handler's write (not just queued). */
  get closeWritten(): boolean {
    return this._closeWritten;
  }

  /** Bytes accepted by send()/ping()/pong() but not yet written (behind compression, or an owed pong). */
  get pendingSendBytes(): number {
    return this._pendingSendBytes;
  }

  /**
   * Send a data frame/message. fin=false starts/continues a streamed message (the first frame
   * gets the opcode from isBinary, later ones are continuations). Compressed sends complete
   * asynchronously but everything sent later stays behind them. `cb` fires once the frame
   * bytes were handed to handler.write, or with an error. Don't modify `data` before then.
   */
  send(data: Buffer, isBinary: boolean, opts?: SendOptions, cb?: SendCallback): void {
    if (this._closeSent || this.destroyed) {
      const err = new InvalidStateError(
        this.destroyed ? 'Cannot send: the connection is destroyed' : 'Cannot send after the close frame was sent',
      );
      if (cb) {
        cb(err);
        return;
      }
      throw err;
    }
    const fin = opts?.fin !== false;
    let b0: number;
    let compress: boolean;
    if (this.outOpen) {
      b0 = OP_CONTINUATION;
      compress = this.outCompressed;
    } else {
      b0 = isBinary ? OP_BINARY : OP_TEXT;
      compress = this.transform !== null && opts?.compress !== false;
      this.outCompressed = compress;
      if (compress) b0 |= RSV1;
    }
    if (fin) b0 |= FIN;
    this.outOpen = !fin;
    if (compress) this.sendCompressed(b0, data, fin, cb);
    else this.emit(b0, data, data.length, cb);
  }

  /**
   * Write a data frame encoded elsewhere (a whole message, unmasked), in order with this
   * connection's other sends. Returns false, sending nothing, when no data frame may go now:
   * after our close, during a streamed message of our own (a frame in between would break
   * it), or in the client role (frames must be masked per connection).
   */
  sendEncoded(frame: EncodedFrame): boolean {
    if (this._closeSent || this.destroyed || this.outOpen || this.maskOut) return false;
    if (frame.chunks !== null && this.qHead === this.queue.length) {
      if (this.handler.write(frame.chunks, true) === false) this.blocked = true;
      return true;
    }
    const item: OutFrame = { b0: 0, payload: null, size: frame.size, ready: frame.chunks !== null, err: null, cb: undefined, encoded: frame };
    this.queue.push(item);
    this._pendingSendBytes += frame.size;
    if (!item.ready) {
      frame.whenReady(() => {
        item.ready = true;
        if (!this.destroyed && !this.failed) this.flush();
      });
    }
    return true;
  }

  /** Send a ping (payload <= 125 bytes, else InvalidArgumentError). Dropped after our close (`cb` gets InvalidStateError). */
  ping(payload: Buffer = EMPTY, cb?: SendCallback): void {
    this.control(OP_PING, payload, cb);
  }

  /** Send a pong (payload <= 125 bytes, else InvalidArgumentError). Dropped after our close (`cb` gets InvalidStateError). */
  pong(payload: Buffer = EMPTY, cb?: SendCallback): void {
    this.control(OP_PONG, payload, cb);
  }

  /**
   * Write a close frame (once; later calls are no-ops). code undefined => empty payload.
   * Throws InvalidArgumentError on an invalid code (allowed: 1000-1003, 1007-1014, 3000-4999),
   * a reason without a code, or a reason over 123 bytes of UTF-8.
   */
  close(code?: number, reason?: string): void {
    const payload = encodeClosePayload(code, reason);
    if (this._closeSent || this.destroyed) return;
    this._closeSent = true;
    this.emit(FIN | OP_CLOSE, payload, 0, undefined);
  }

  /** Release the transform and stop everything; queued sends get an InvalidStateError. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.parser.stop();
    this.transform?.dispose();
    const pending = this.takeQueue();
    // Most connections end with nothing queued: build the error (and its stack) only for a callback.
    if (pending.some(hasCallback)) failCallbacks(pending, new InvalidStateError('The connection was destroyed before the frame was written'));
  }

  // ---- FrameSink (called by the parser) ----

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    this.handler.onMessage(data, isBinary);
  }

  /** @internal */
  onMessageStart(isBinary: boolean): void {
    this.handler.onMessageStart!(isBinary);
  }

  /** @internal */
  onData(chunk: Buffer, fin: boolean): void {
    this.handler.onMessageData!(chunk, fin);
  }

  /** @internal */
  onControl(opcode: number, payload: Buffer): void {
    if (opcode === OP_PING) {
      if (!this._closeSent) this.answerPing(payload);
      this.handler.onPing(payload);
    } else if (opcode === OP_PONG) {
      this.handler.onPong(payload);
    } else {
      this.onClose(payload);
    }
  }

  /** @internal */
  onCompressedFrame(data: Buffer, fin: boolean, isBinary: boolean): void {
    if (this.zStreamed && !this.zOpen) {
      this.zOpen = true;
      this.zText = !isBinary;
      this.zUtf8 = UTF8_ACCEPT;
      this.handler.onMessageStart!(isBinary);
    }
    // A peer can split a compressed message into thousands of tiny fragments; each would cost a
    // zlib round trip on the thread pool. Small non-final fragments are gathered (copied, so no
    // read buffers stay referenced) and inflated together, at most COMPRESSED_BATCH bytes at a time.
    if (!fin && data.length < COMPRESSED_BATCH) {
      (this.zBatch ??= []).push(Buffer.from(data));
      this.zBatchBytes += data.length;
      if (this.zBatchBytes < COMPRESSED_BATCH) return;
      data = this.takeBatch(null);
    } else if (this.zBatch !== null) {
      data = this.takeBatch(data);
    }
    const parser = this.parser;
    // Later frames (data and control) wait until this one is inflated, so
    // messages and events stay in wire order and zlib's queue stays short.
    parser.halt |= HALT_BUSY;
    if (this.zStreamed) {
      this.inflatePiece(data, fin);
      return;
    }
    this.transform!.decompress(data, fin, (err, out) => {
      if (this.failed || this.destroyed) return;
      if (err) {
        this.failWith(err instanceof ProtocolError ? err : new ProtocolError(1007, `Inflating a message failed: ${err.message}`));
        return;
      }
      const msg = fin ? (out ?? EMPTY) : null;
      if (msg !== null && !isBinary && !isValidUtf8(msg)) {
        this.failWith(new ProtocolError(1007, 'Invalid UTF-8 in a text message'));
        return;
      }
      // Cleared before delivering so that a throwing handler cannot wedge the parser.
      parser.halt &= ~HALT_BUSY;
      if (msg !== null) this.handler.onMessage(msg, isBinary);
      if (parser.halt === 0) parser.run();
      this.updateReading();
    });
  }

  /** Streamed receive of a compressed message: inflated pieces go on as zlib produces them. */
  private inflatePiece(data: Buffer, fin: boolean): void {
    const transform = this.transform!;
    const parser = this.parser;
    transform.decompressStream!(data, fin, this.maxStreamPayload, (chunk) => {
      if (this.failed || this.destroyed) return;
      if (this.zText && (this.zUtf8 = utf8Feed(this.zUtf8, chunk, 0, chunk.length)) === UTF8_REJECT) {
        this.failWith(new ProtocolError(1007, 'Invalid UTF-8 in a text message'));
        return;
      }
      this.handler.onMessageData!(chunk, false);
      // A full consumer paused us: zlib holds its output until resume().
      if (this.paused) transform.pauseOutput?.();
    }, (err) => {
      if (this.failed || this.destroyed) return;
      if (err) {
        this.failWith(err instanceof ProtocolError ? err : new ProtocolError(1007, `Inflating a message failed: ${err.message}`));
        return;
      }
      if (fin && this.zText && this.zUtf8 !== UTF8_ACCEPT) {
        this.failWith(new ProtocolError(1007, 'Text message ends inside a UTF-8 sequence'));
        return;
      }
      if (fin) this.zOpen = false;
      parser.halt &= ~HALT_BUSY;
      if (fin) this.handler.onMessageData!(EMPTY, true);
      if (parser.halt === 0) parser.run();
      this.updateReading();
    });
  }

  private takeBatch(last: Buffer | null): Buffer {
    const parts = this.zBatch!;
    if (last !== null) parts.push(last);
    const out = Buffer.concat(parts, this.zBatchBytes + (last === null ? 0 : last.length));
    this.zBatch = null;
    this.zBatchBytes = 0;
    return out;
  }

  /** @internal */
  onParseError(err: ProtocolError): void {
    this.failWith(err);
  }

  // ---- internals ----

  /** Answer a ping, keeping at most one pong owed (see the class comment). */
  private answerPing(payload: Buffer): void {
    const queued = this.queuedPong;
    if (queued !== null) {
      this._pendingSendBytes += payload.length - queued.size;
      queued.payload = Buffer.from(payload);
      queued.size = payload.length;
    } else if (this.owedPong !== null || (this.blocked && this.qHead === this.queue.length)) {
      this._pendingSendBytes += payload.length - (this.owedPong?.length ?? 0);
      this.owedPong = Buffer.from(payload);
    } else if (this.qHead !== this.queue.length) {
      this.queuedPong = this.emit(FIN | OP_PONG, Buffer.from(payload), payload.length, undefined);
    } else {
      this.emit(FIN | OP_PONG, payload, 0, undefined);
    }
  }

  /** Tell the owner whether to read, when that changes. */
  private updateReading(): void {
    const buffered = this.parser.bufferedAmount;
    const want = !this.holdReading && !this.destroyed &&
      (this.reading ? buffered < RECEIVE_HIGH_WATER_MARK : buffered < RECEIVE_HIGH_WATER_MARK / 2);
    if (want === this.reading) return;
    this.reading = want;
    this.handler.setReading(want);
  }

  private onClose(payload: Buffer): void {
    let code: number;
    let reason: string;
    try {
      ({ code, reason } = decodeClosePayload(payload));
    } catch (err) {
      this.failWith(err as ProtocolError);
      return;
    }
    this._closeReceived = true;
    this.parser.stop();
    if (!this._closeSent) {
      this._closeSent = true;
      this.emit(FIN | OP_CLOSE, code === 1005 ? EMPTY : closeCodePayload(code), 0, undefined);
    }
    this.handler.onCloseFrame(code, reason);
  }

  private control(opcode: number, payload: Buffer, cb: SendCallback | undefined): void {
    if (payload.length > MAX_CONTROL_PAYLOAD) {
      throw new InvalidArgumentError(`Control frame payload is ${payload.length} bytes; the limit is 125`);
    }
    if (this._closeSent || this.destroyed) {
      if (cb) cb(new InvalidStateError('Cannot send a control frame after the close frame was sent'));
      return;
    }
    this.emit(FIN | opcode, payload, payload.length, cb);
  }

  /** Write a frame now (returns null), or queue it behind a pending compression (returns it). */
  private emit(b0: number, payload: Buffer, size: number, cb: SendCallback | undefined): OutFrame | null {
    if (this.qHead === this.queue.length) {
      this.writeFrame(b0, payload);
      if (cb) cb();
      return null;
    }
    const item: OutFrame = { b0, payload, size, ready: true, err: null, cb, encoded: null };
    this.queue.push(item);
    this._pendingSendBytes += size;
    return item;
  }

  private sendCompressed(b0: number, data: Buffer, fin: boolean, cb: SendCallback | undefined): void {
    const item: OutFrame = { b0, payload: null, size: data.length, ready: false, err: null, cb, encoded: null };
    this.queue.push(item);
    this._pendingSendBytes += data.length;
    this.transform!.compress(data, fin, (err, out) => {
      if (this.destroyed || this.failed) return;
      item.ready = true;
      item.err = err;
      item.payload = out ?? EMPTY;
      this.flush();
    });
  }

  /** Write every ready frame at the head of the queue. */
  private flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      const queue = this.queue;
      while (this.qHead < queue.length) {
        const item = queue[this.qHead]!;
        if (!item.ready) break;
        queue[this.qHead++] = undefined;
        this._pendingSendBytes -= item.size;
        if (item.err) {
          const err = item.err;
          if (item.cb) item.cb(err);
          this.failWith(new ProtocolError(1011, `Compressing a message failed: ${err.message}`));
          return;
        }
        if (item === this.queuedPong) this.queuedPong = null;
        if (item.encoded !== null) {
          if (this.handler.write(item.encoded.chunks!) === false) this.blocked = true;
        } else {
          this.writeFrame(item.b0, item.payload!);
        }
        if (item.cb) item.cb();
        if (this.destroyed || this.failed) return;
      }
      if (this.qHead === queue.length) {
        queue.length = 0;
        this.qHead = 0;
      }
    } finally {
      this.flushing = false;
    }
  }

  private writeFrame(b0: number, payload: Buffer): void {
    if (writeFrameTo(this.handler, b0, payload, this.maskOut) === false) this.blocked = true;
    if ((b0 & 0x0f) === OP_CLOSE) {
      this._closeWritten = true;
      this.handler.onCloseWritten();
    }
  }

  /** Empty the send queue; returns the frames that were still waiting. */
  private takeQueue(): OutFrame[] {
    const pending = this.queue.slice(this.qHead) as OutFrame[];
    this.queue = [];
    this.qHead = 0;
    this._pendingSendBytes = 0;
    this.queuedPong = null;
    this.owedPong = null;
    return pending;
  }

  private failWith(err: ProtocolError): void {
    if (this.failed || this.destroyed) return;
    this.failed = true;
    this._closeSent = true;
    this.parser.stop();
    // Frames still waiting for compression are dropped, so the close goes out now.
    const pending = this.takeQueue();
    if (!this._closeWritten) this.writeFrame(FIN | OP_CLOSE, closeCodePayload(err.closeCode));
    this.transform?.dispose();
    this.handler.onFail(err);
    failCallbacks(pending, err);
  }
}

function hasCallback(f: OutFrame): boolean {
  return f.cb !== undefined && f.cb !== null;
}

function failCallbacks(frames: OutFrame[], err: Error): void {
  for (const f of frames) if (f.cb) f.cb(err);
}
