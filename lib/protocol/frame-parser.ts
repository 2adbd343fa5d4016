/**
 * Incremental RFC 6455 frame parser over received chunks (any chunking, down
 * to one byte per chunk). Payload bytes are unmasked in place and handed on as
 * slices of the received chunks; bytes are copied only to assemble a message
 * (or a control frame) that spans chunks. Data-frame payload is processed as
 * it arrives, so invalid UTF-8 fails the connection as soon as it is seen.
 */
import { ProtocolError } from '../errors.js';
import { MAX_CONTROL_PAYLOAD, OP_BINARY, OP_PONG } from './constants.js';
import { unmask } from './mask.js';
import { Utf8Validator } from './utf8.js';

/** Receives what the parser finds. Calls may set `halt` on the parser. */
export interface FrameSink {
  /** A complete uncompressed message; text is already validated UTF-8. */
  onMessage(data: Buffer, isBinary: boolean): void;
  /** A complete control frame (close, ping, pong); payload unmasked. */
  onControl(opcode: number, payload: Buffer): void;
  /** The whole payload of one frame of a compressed (RSV1) message, in order. */
  onCompressedFrame(data: Buffer, fin: boolean, isBinary: boolean): void;
  /** The peer broke the protocol or a limit; the parser has stopped for good. */
  onParseError(err: ProtocolError): void;
}

export interface FrameParserOptions {
  /** True on the server: every received frame must be masked; false: none may be. */
  expectMasked: boolean;
  /** Max message size (all fragments). */
  maxPayload: number;
  /** Max frames per message. */
  maxFragments: number;
  /** RSV1 allowed on the first frame of a data message (a transform is negotiated). */
  allowRsv1: boolean;
}

/** `halt` bits: any set bit stops parsing; received bytes stay queued. */
export const HALT_PAUSED = 1;
/** Waiting for the transform to inflate a frame. */
export const HALT_BUSY = 2;
/** Failed or closed: input is ignored from now on. */
export const HALT_DONE = 4;

const S_HEADER = 0;
const S_DATA = 1;
const S_CONTROL = 2;

const EMPTY = Buffer.alloc(0);

// One 4-byte scratch for all parsers: unmask() reads the key from it synchronously.
const KEY_SCRATCH = Buffer.allocUnsafeSlow(4);
function keyBytes(key: number): Buffer {
  KEY_SCRATCH.writeUInt32BE(key, 0);
  return KEY_SCRATCH;
}

// Small fragments of a multi-fragment message are copied into shared blocks
// so that a message made of thousands of tiny frames holds a few blocks
// instead of thousands of slice objects (memory stays ~ message size).
const SMALL_PIECE = 512;
const BLOCK_SIZE = 16384;

function headerLength(b1: number): number {
  const l = b1 & 0x7f;
  return 2 + (l === 126 ? 2 : l === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

/** See the module comment. Drive it with push(); it calls the sink synchronously. */
export class FrameParser {
  /** Bit set of HALT_*; 0 = running. The owner sets/clears bits, then calls run(). */
  halt = 0;

  private readonly sink: FrameSink;
  private readonly expectMasked: boolean;
  private readonly maxPayload: number;
  private readonly rawLimit: number;
  private readonly maxFragments: number;
  private readonly allowRsv1: boolean;

  // Input: the chunk being parsed, then chunks queued behind it.
  private cur: Buffer = EMPTY;
  private pos = 0;
  private queue: Buffer[] = [];
  private qHead = 0;
  private qBytes = 0;
  private running = false;

  private state = S_HEADER;
  // Scratch for a header split across reads; allocated the first time one is.
  private hdr: Buffer | null = null;
  private hdrLen = 0;

  // The frame being read.
  private fin = false;
  private opcode = 0;
  private masked = false;
  private frameLen = 0;
  private remaining = 0;
  // The frame's mask key as one 32-bit number: an idle connection keeps no buffer for it.
  private key = 0;
  private ctrl: Buffer | null = null;

  // The message being read.
  private msgOpen = false;
  private msgBinary = false;
  private msgCompressed = false;
  private msgLen = 0;
  private fragments = 0;
  private checkText = false;
  private readonly utf8 = new Utf8Validator();
  private part0: Buffer | null = null;
  private parts: Buffer[] | null = null;
  private block: Buffer | null = null;
  private blockUsed = 0;
  private blockStart = 0;

  constructor(sink: FrameSink, options: FrameParserOptions) {
    this.sink = sink;
    this.expectMasked = options.expectMasked;
    this.maxPayload = options.maxPayload;
    // A compressed frame is buffered before inflating; deflate can expand
    // incompressible data slightly, so allow a little over maxPayload (the
    // transform enforces maxPayload on the inflated size).
    this.rawLimit = options.maxPayload + Math.floor(options.maxPayload / 64) + 64;
    this.maxFragments = options.maxFragments;
    this.allowRsv1 = options.allowRsv1;
  }

  /** Received bytes not yet parsed. */
  get bufferedAmount(): number {
    return this.cur.length - this.pos + this.qBytes;
  }

  /** Queue received bytes and parse as far as possible (unless halted). */
  push(chunk: Buffer): void {
    if (this.halt & HALT_DONE || chunk.length === 0) return;
    if (this.pos >= this.cur.length && this.qHead === this.queue.length) {
      this.cur = chunk;
      this.pos = 0;
    } else {
      this.queue.push(chunk);
      this.qBytes += chunk.length;
    }
    if (this.halt === 0) this.run();
  }

  /** Parse queued bytes until they run out or `halt` becomes non-zero. Re-entrant calls are no-ops. */
  run(): void {
    if (this.running) return;
    this.running = true;
    try {
      this.loop();
    } finally {
      this.running = false;
    }
  }

  /** Stop for good and drop buffered input. */
  stop(): void {
    this.halt |= HALT_DONE;
    this.cur = EMPTY;
    this.pos = 0;
    this.queue = [];
    this.qHead = 0;
    this.qBytes = 0;
    this.part0 = null;
    this.parts = null;
    this.block = null;
    this.ctrl = null;
  }

  private loop(): void {
    while (this.halt === 0) {
      const buf = this.cur;
      const pos = this.pos;
      if (pos >= buf.length) {
        if (this.qHead === this.queue.length) return;
        const next = this.queue[this.qHead++];
        this.qBytes -= next.length;
        if (this.qHead === this.queue.length) {
          this.queue.length = 0;
          this.qHead = 0;
        }
        this.cur = next;
        this.pos = 0;
        continue;
      }
      if (this.state === S_DATA) this.readData(buf, pos);
      else if (this.state === S_HEADER) this.readHeader(buf, pos);
      else this.readControl(buf, pos);
    }
  }

  private readHeader(buf: Buffer, pos: number): void {
    if (this.hdrLen === 0 && buf.length - pos >= 2) {
      const need = headerLength(buf[pos + 1]);
      if (buf.length - pos >= need) {
        if (!this.checkHeader(buf[pos], buf[pos + 1])) return;
        this.pos = pos + need;
        this.startFrame(buf, pos);
        return;
      }
    }
    // The header spans chunks: gather it in `hdr`, checking the first two
    // bytes as soon as they are there.
    const hdr = (this.hdr ??= Buffer.allocUnsafe(14));
    while (pos < buf.length) {
      hdr[this.hdrLen++] = buf[pos++];
      if (this.hdrLen < 2) continue;
      if (this.hdrLen === 2 && !this.checkHeader(hdr[0], hdr[1])) return;
      if (this.hdrLen === headerLength(hdr[1])) {
        this.pos = pos;
        this.hdrLen = 0;
        this.startFrame(hdr, 0);
        return;
      }
    }
    this.pos = pos;
  }

  /** Rules that the first two header bytes alone decide. */
  private checkHeader(b0: number, b1: number): boolean {
    if (b0 & 0x30) return this.fail(1002, 'RSV2/RSV3 set without a negotiated extension');
    const op = b0 & 0x0f;
    if (op >= 8) {
      if (op > OP_PONG) return this.fail(1002, `Reserved control opcode 0x${op.toString(16)}`);
      if ((b0 & 0x80) === 0) return this.fail(1002, 'Fragmented control frame');
      if (b0 & 0x40) return this.fail(1002, 'RSV1 set on a control frame');
      if ((b1 & 0x7f) > MAX_CONTROL_PAYLOAD) return this.fail(1002, 'Control frame payload over 125 bytes');
    } else if (op === 0) {
      if (!this.msgOpen) return this.fail(1002, 'Continuation frame without a message in progress');
      if (b0 & 0x40) return this.fail(1002, 'RSV1 set on a continuation frame');
    } else if (op <= OP_BINARY) {
      if (this.msgOpen) return this.fail(1002, 'New data frame inside a fragmented message');
      if (b0 & 0x40 && !this.allowRsv1) return this.fail(1002, 'RSV1 set without a negotiated extension');
    } else {
      return this.fail(1002, `Reserved data opcode 0x${op.toString(16)}`);
    }
    if (((b1 & 0x80) !== 0) !== this.expectMasked) {
      return this.fail(1002, this.expectMasked ? 'Unmasked frame from a client' : 'Masked frame from a server');
    }
    return true;
  }

  /** The whole header is at h[o..]; it passed checkHeader. */
  private startFrame(h: Buffer, o: number): void {
    const b0 = h[o];
    const b1 = h[o + 1];
    let len = b1 & 0x7f;
    let k = o + 2;
    if (len === 126) {
      len = (h[k] << 8) | h[k + 1];
      k += 2;
    } else if (len === 127) {
      const hi = h.readUInt32BE(k);
      if (hi & 0x80000000) {
        this.fail(1002, '64-bit payload length with the most significant bit set');
        return;
      }
      // Above 2^53 a number loses precision; no limit can be that high anyway.
      if (hi > 0x1fffff) {
        this.fail(1009, 'Frame payload length over the limit');
        return;
      }
      len = hi * 4294967296 + h.readUInt32BE(k + 4);
      k += 8;
    }
    this.masked = (b1 & 0x80) !== 0;
    if (this.masked) {
      this.key = h.readUInt32BE(k);
    }
    const op = b0 & 0x0f;
    this.fin = (b0 & 0x80) !== 0;
    this.frameLen = len;
    this.remaining = len;
    if (op >= 8) {
      this.opcode = op;
      this.state = S_CONTROL;
      if (len === 0) this.endControl(EMPTY);
      return;
    }
    if (op !== 0) {
      this.msgBinary = op === OP_BINARY;
      this.msgCompressed = (b0 & 0x40) !== 0;
      this.checkText = !this.msgBinary && !this.msgCompressed;
      this.msgLen = 0;
      this.fragments = 0;
      this.msgOpen = !this.fin;
    }
    if (++this.fragments > this.maxFragments) {
      this.fail(1009, `Message has more than ${this.maxFragments} fragments`);
      return;
    }
    if (len > (this.msgCompressed ? this.rawLimit : this.maxPayload) - this.msgLen) {
      this.fail(1009, `Message larger than maxPayload (${this.maxPayload} bytes)`);
      return;
    }
    this.msgLen += len;
    this.state = S_DATA;
    if (len === 0) this.endDataFrame();
  }

  private readData(buf: Buffer, pos: number): void {
    const avail = buf.length - pos;
    const n = avail < this.remaining ? avail : this.remaining;
    const end = pos + n;
    if (this.masked) unmask(buf, pos, end, keyBytes(this.key), 0, (this.frameLen - this.remaining) & 3);
    this.pos = end;
    if (this.checkText && !this.utf8.write(buf, pos, end)) {
      this.fail(1007, 'Invalid UTF-8 in a text message');
      return;
    }
    this.remaining -= n;
    this.addPart(pos === 0 && end === buf.length ? buf : buf.subarray(pos, end));
    if (this.remaining === 0) this.endDataFrame();
  }

  private endDataFrame(): void {
    this.state = S_HEADER;
    if (this.fin) this.msgOpen = false;
    if (this.msgCompressed) {
      this.sink.onCompressedFrame(this.takeParts(), this.fin, this.msgBinary);
      return;
    }
    if (!this.fin) return;
    if (this.checkText && !this.utf8.end()) {
      this.fail(1007, 'Text message ends inside a UTF-8 sequence');
      return;
    }
    this.sink.onMessage(this.takeParts(), this.msgBinary);
  }

  private readControl(buf: Buffer, pos: number): void {
    const avail = buf.length - pos;
    if (this.ctrl === null && avail >= this.remaining) {
      const end = pos + this.remaining;
      if (this.masked) unmask(buf, pos, end, keyBytes(this.key), 0, 0);
      this.pos = end;
      this.remaining = 0;
      this.endControl(buf.subarray(pos, end));
      return;
    }
    if (this.ctrl === null) this.ctrl = Buffer.allocUnsafe(this.frameLen);
    const n = avail < this.remaining ? avail : this.remaining;
    buf.copy(this.ctrl, this.frameLen - this.remaining, pos, pos + n);
    this.pos = pos + n;
    this.remaining -= n;
    if (this.remaining === 0) {
      const payload = this.ctrl;
      if (this.masked) unmask(payload, 0, payload.length, keyBytes(this.key), 0, 0);
      this.endControl(payload);
    }
  }

  private endControl(payload: Buffer): void {
    this.state = S_HEADER;
    this.ctrl = null;
    this.sink.onControl(this.opcode, payload);
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

  private fail(code: number, message: string): false {
    this.stop();
    this.sink.onParseError(new ProtocolError(code, message));
    return false;
  }
}
