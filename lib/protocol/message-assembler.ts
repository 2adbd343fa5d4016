/**
 * Data frames -> messages, behind a FrameReader. It owns the rules that span
 * the frames of one message: maxPayload on the running total, maxFragments,
 * UTF-8 validity of text (checked as the bytes arrive, so invalid text fails
 * as soon as it is seen, even mid-frame), and gathering each compressed
 * (RSV1) frame for the transform.
 *
 * Uncompressed messages are delivered in one of two ways:
 * - whole (default): onMessage once per message. A message that arrived as
 *   one piece is the received slice itself (zero copy); pieces are copied
 *   only to join a message that spans frames or chunks.
 * - per fragment (`perFragment`): onMessageStart at the first frame's header,
 *   then onData with each payload piece as it arrives (slices of the received
 *   chunks, never copied), `fin` set on the last one. Nothing of a message is
 *   held here, so a consumer can stream it while its frames still arrive.
 */
import { ProtocolError } from '../errors.js';
import { OP_BINARY } from './constants.js';
import type { FrameHandler } from './frame-reader.js';
import { UTF8_ACCEPT, UTF8_REJECT, utf8Feed } from './utf8.js';

/** Receives what the parser finds. Calls may set `halt` on the parser. */
export interface FrameSink {
  /** A complete uncompressed message; text is already validated UTF-8. Not called with `perFragment`. */
  onMessage(data: Buffer, isBinary: boolean): void;
  /** A complete control frame (close, ping, pong); payload unmasked. */
  onControl(opcode: number, payload: Buffer): void;
  /** The whole payload of one frame of a compressed (RSV1) message, in order. */
  onCompressedFrame(data: Buffer, fin: boolean, isBinary: boolean): void;
  /** The peer broke the protocol or a limit; the parser has stopped for good. */
  onParseError(err: ProtocolError): void;
  /**
   * With `perFragment`: an uncompressed message starts (its first frame's header passed every
   * check, maxPayload included); onData calls follow until one with `fin` true.
   */
  onMessageStart?(isBinary: boolean): void;
  /**
   * With `perFragment`: the next piece of the current message, a slice of a received chunk
   * (do not modify it; keep it only as long as the chunk may be kept). Pieces are never empty,
   * except the `fin` one when the message ends with an empty frame. Text seen so far is valid
   * UTF-8; a `fin` piece also means the text ended on a character boundary. A failure after
   * some pieces comes as onParseError (the message is then incomplete and must be dropped).
   */
  onData?(chunk: Buffer, fin: boolean): void;
}

export interface MessageAssemblerOptions {
  /** Max message size (all fragments). */
  maxPayload: number;
  /** Max frames per message. */
  maxFragments: number;
  /** Deliver uncompressed messages piece by piece (onMessageStart/onData) instead of onMessage. */
  perFragment?: boolean;
  /** With `perFragment`: the size limit of messages delivered piece by piece (nothing of them is
   *  held, so it may be far above maxPayload). Compressed messages stay under maxPayload. Default maxPayload. */
  maxStreamPayload?: number;
  /** With `perFragment`: hand compressed messages on as their bytes arrive too (onCompressedFrame
   *  per received piece, under maxStreamPayload), for a sink that inflates them as a stream. */
  perFragmentCompressed?: boolean;
}

const EMPTY = Buffer.alloc(0);

// Errors are built out of line: the hot methods stay small enough for V8 to
// inline them into the reader's loop.
function invalidText(): ProtocolError {
  return new ProtocolError(1007, 'Invalid UTF-8 in a text message');
}
function textCut(): ProtocolError {
  return new ProtocolError(1007, 'Text message ends inside a UTF-8 sequence');
}
function tooManyFragments(max: number): ProtocolError {
  return new ProtocolError(1009, `Message has more than ${max} fragments`);
}
function tooLarge(maxPayload: number): ProtocolError {
  return new ProtocolError(1009, `Message larger than maxPayload (${maxPayload} bytes)`);
}

// Small fragments of a multi-fragment message are copied into shared blocks
// so that a message made of thousands of tiny frames holds a few blocks
// instead of thousands of slice objects (memory stays ~ message size).
const SMALL_PIECE = 512;
const BLOCK_SIZE = 16384;

/** See the module comment. Sits behind a FrameReader; calls the sink synchronously. */
export class MessageAssembler implements FrameHandler {
  private readonly sink: FrameSink;
  private readonly maxPayload: number;
  private readonly maxStreamPayload: number;
  private readonly rawLimit: number;
  private readonly maxFragments: number;
  private readonly perFragment: boolean;
  private readonly perFragmentCompressed: boolean;
  private readonly rawStreamLimit: number;

  // The frame being read is the last of its message.
  private fin = false;

  // The message being read.
  private msgBinary = false;
  private msgCompressed = false;
  // Delivered piece by piece (perFragment and not compressed).
  private msgDirect = false;
  // A compressed message handed on piece by piece (perFragmentCompressed).
  private msgZPieces = false;
  private msgLen = 0;
  private fragments = 0;
  private checkText = false;
  // UTF-8 state of the text message being read (utf8.ts), a number: no validator object per connection.
  private utf8 = UTF8_ACCEPT;
  private part0: Buffer | null = null;
  private parts: Buffer[] | null = null;
  private block: Buffer | null = null;
  private blockUsed = 0;
  private blockStart = 0;

  constructor(sink: FrameSink, options: MessageAssemblerOptions) {
    this.sink = sink;
    this.maxPayload = options.maxPayload;
    this.maxStreamPayload = options.maxStreamPayload ?? options.maxPayload;
    // A compressed frame is buffered before inflating; deflate can expand
    // incompressible data slightly, so allow a little over maxPayload (the
    // transform enforces maxPayload on the inflated size).
    this.rawLimit = options.maxPayload + Math.floor(options.maxPayload / 64) + 64;
    this.maxFragments = options.maxFragments;
    this.perFragment = options.perFragment === true;
    this.perFragmentCompressed = this.perFragment && options.perFragmentCompressed === true;
    this.rawStreamLimit = this.maxStreamPayload + Math.floor(this.maxStreamPayload / 64) + 64;
    if (this.perFragment && (typeof sink.onMessageStart !== 'function' || typeof sink.onData !== 'function')) {
      throw new TypeError('perFragment needs a sink with onMessageStart and onData');
    }
  }

  /** @internal */
  onFrameStart(opcode: number, fin: boolean, rsv1: boolean, length: number): ProtocolError | null {
    if (opcode !== 0) {
      this.msgBinary = opcode === OP_BINARY;
      this.msgCompressed = rsv1;
      this.msgDirect = this.perFragment && !rsv1;
      this.msgZPieces = this.perFragmentCompressed && rsv1;
      this.checkText = !this.msgBinary && !rsv1;
      this.msgLen = 0;
      this.fragments = 0;
    }
    this.fin = fin;
    if (++this.fragments > this.maxFragments) return tooManyFragments(this.maxFragments);
    const streamed = this.msgDirect || this.msgZPieces;
    const limit = this.msgDirect ? this.maxStreamPayload : this.msgZPieces ? this.rawStreamLimit
      : this.msgCompressed ? this.rawLimit : this.maxPayload;
    if (length > limit - this.msgLen) return tooLarge(streamed ? this.maxStreamPayload : this.maxPayload);
    this.msgLen += length;
    if (opcode !== 0 && this.msgDirect) this.sink.onMessageStart!(this.msgBinary);
    return null;
  }

  /** @internal */
  onFrameData(buf: Buffer, start: number, end: number, frameEnd: boolean): ProtocolError | null {
    if (this.msgDirect) {
      if (this.checkText && !this.textOk(buf, start, end)) return invalidText();
      return this.deliverPiece(buf, start, end, frameEnd && this.fin);
    }
    if (this.msgZPieces) {
      if (this.checkText && !this.textOk(buf, start, end)) return invalidText();
      return this.deliverCompressedPiece(buf, start, end, frameEnd && this.fin);
    }
    if (start < end) {
      // Validate the piece's own view: the validator hands a whole buffer to buffer.isUtf8 without another view.
      const p = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
      if (this.checkText && !this.textOk(p, 0, p.length)) return invalidText();
      this.addPart(p);
    }
    if (!frameEnd) return null;
    if (this.msgCompressed) return this.endCompressedFrame();
    if (!this.fin) return null;
    if (this.checkText && !this.textEnd()) return textCut();
    this.sink.onMessage(this.takeParts(), this.msgBinary);
    return null;
  }

  private textOk(buf: Buffer, start: number, end: number): boolean {
    return (this.utf8 = utf8Feed(this.utf8, buf, start, end)) !== UTF8_REJECT;
  }

  /** The text ended on a character boundary; resets for the next message. */
  private textEnd(): boolean {
    const ok = this.utf8 === UTF8_ACCEPT;
    this.utf8 = UTF8_ACCEPT;
    return ok;
  }

  private endCompressedFrame(): null {
    this.sink.onCompressedFrame(this.takeParts(), this.fin, this.msgBinary);
    return null;
  }

  /** perFragment: hand the piece on as it is; only a message's end may be an empty piece. */
  private deliverPiece(buf: Buffer, start: number, end: number, fin: boolean): ProtocolError | null {
    if (start === end && !fin) return null;
    if (fin && this.checkText && !this.textEnd()) return textCut();
    this.sink.onData!(start === 0 && end === buf.length ? buf : buf.subarray(start, end), fin);
    return null;
  }

  /** perFragmentCompressed: a compressed piece as it is (a slice of a received chunk). */
  private deliverCompressedPiece(buf: Buffer, start: number, end: number, fin: boolean): null {
    if (start < end || fin) this.sink.onCompressedFrame(start === 0 && end === buf.length ? buf : buf.subarray(start, end), fin, this.msgBinary);
    return null;
  }

  /** @internal */
  onControl(opcode: number, payload: Buffer): void {
    this.sink.onControl(opcode, payload);
  }

  /** @internal */
  onError(err: ProtocolError): void {
    this.sink.onParseError(err);
  }

  /** @internal */
  onStop(): void {
    this.fin = false;
    this.msgCompressed = false;
    this.msgDirect = false;
    this.msgZPieces = false;
    this.utf8 = UTF8_ACCEPT;
    this.part0 = null;
    this.parts = null;
    this.block = null;
    this.blockUsed = 0;
    this.blockStart = 0;
  }

  private addPart(p: Buffer): void {
    if (this.part0 === null) {
      this.part0 = p;
      return;
    }
    const parts = this.parts ?? (this.parts = []);
    if (p.length >= SMALL_PIECE) {
      this.sealBlock(parts);
      parts.push(p);
      return;
    }
    if (this.block === null || this.block.length - this.blockUsed < p.length) {
      this.sealBlock(parts);
      this.block = Buffer.allocUnsafe(BLOCK_SIZE);
      this.blockUsed = 0;
      this.blockStart = 0;
    }
    p.copy(this.block, this.blockUsed);
    this.blockUsed += p.length;
  }

  private sealBlock(parts: Buffer[]): void {
    if (this.block !== null && this.blockUsed > this.blockStart) {
      parts.push(this.block.subarray(this.blockStart, this.blockUsed));
      this.blockStart = this.blockUsed;
    }
  }

  /** The collected bytes as one Buffer (zero copy when there is one piece); resets. */
  private takeParts(): Buffer {
    const first = this.part0;
    const parts = this.parts;
    this.part0 = null;
    if (parts === null) return first ?? EMPTY;
    this.parts = null;
    this.sealBlock(parts);
    let total = first!.length;
    for (let i = 0; i < parts.length; i++) total += parts[i].length;
    const out = Buffer.allocUnsafe(total);
    first!.copy(out, 0);
    let off = first!.length;
    for (let i = 0; i < parts.length; i++) {
      parts[i].copy(out, off);
      off += parts[i].length;
    }
    // Everything was copied into `out`, so the block can be reused.
    this.blockUsed = 0;
    this.blockStart = 0;
    return out;
  }
}
