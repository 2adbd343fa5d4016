/**
 * Incremental RFC 6455 frame reader over received chunks (any chunking, down
 * to one byte per chunk). It decodes headers, enforces the rules one frame
 * decides on its own (reserved bits and opcodes, control-frame rules, the
 * masking rule, length encoding, continuation order), unmasks payload in
 * place and hands data-frame payload on as ranges of the received chunks:
 * nothing is copied except a header or a control frame that spans chunks.
 * What the frames mean as messages is the FrameHandler's business (see
 * message-assembler.ts).
 */
import { ProtocolError } from '../errors.js';
import { MAX_CONTROL_PAYLOAD, OP_BINARY, OP_PONG } from './constants.js';
import { unmask } from './mask.js';

/**
 * Receives the frames a FrameReader reads, synchronously, in wire order. Calls may set `halt`
 * on the reader. A non-null return from onFrameStart/onFrameData fails the reader
 * with that error: it stops for good, then passes the error to onError.
 */
export interface FrameHandler {
  /**
   * The header of a data frame passed the per-frame checks. opcode is OP_TEXT/OP_BINARY for the
   * first frame of a message, OP_CONTINUATION for the rest; rsv1 can only be set on a first frame.
   * Called before any of its payload has arrived, so limits can be checked on the header.
   */
  onFrameStart(opcode: number, fin: boolean, rsv1: boolean, length: number): ProtocolError | null;
  /**
   * buf[start, end) is the next piece of the current data frame, unmasked in place; frameEnd
   * says it completes the frame. Empty only for an empty frame (one call, frameEnd true).
   */
  onFrameData(buf: Buffer, start: number, end: number, frameEnd: boolean): ProtocolError | null;
  /** A complete control frame (close, ping, pong); payload unmasked. */
  onControl(opcode: number, payload: Buffer): void;
  /** The reader has stopped for good because of err (the peer broke the protocol or a limit). */
  onError(err: ProtocolError): void;
  /** The reader stopped for good (stop() or a failure): drop whatever is held. */
  onStop(): void;
}

export interface FrameReaderOptions {
  /** True on the server: every received frame must be masked; false: none may be. */
  expectMasked: boolean;
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

// One 4-byte scratch for all readers: unmask() reads the key from it synchronously.
// Plain byte stores, not writeUInt32BE: its range checks are enough bytecode to
// crowd the message path out of readData's inlining budget (under callgrind:
// 4412 -> 4127 instructions per 1 KiB frame, 1654 -> 1616 per 16-byte frame).
const KEY_SCRATCH = new Uint8Array(4);
function keyBytes(key: number): Uint8Array {
  KEY_SCRATCH[0] = key >>> 24;
  KEY_SCRATCH[1] = key >>> 16;
  KEY_SCRATCH[2] = key >>> 8;
  KEY_SCRATCH[3] = key;
  return KEY_SCRATCH;
}

function headerLength(b1: number): number {
  const l = b1 & 0x7f;
  return 2 + (l === 126 ? 2 : l === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

/** See the module comment. Drive it with push(); it calls the handler synchronously. */
export class FrameReader {
  /** Bit set of HALT_*; 0 = running. The owner sets/clears bits, then calls run(). */
  halt = 0;

  // Typed as the interface, but one process normally passes only MessageAssembler
  // instances, so the calls below stay monomorphic.
  private readonly handler: FrameHandler;
  private readonly expectMasked: boolean;
  private readonly allowRsv1: boolean;

  // Input: the chunk being parsed, then chunks queued behind it (created when a chunk first
  // has to wait: an idle connection keeps no array). Queued chunks are never empty, so
  // qBytes === 0 means the queue is drained.
  private cur: Buffer = EMPTY;
  private pos = 0;
  private queue: Buffer[] | null = null;
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
  // A fragmented data message is in progress (decides the continuation rules).
  private msgOpen = false;

  constructor(handler: FrameHandler, options: FrameReaderOptions) {
    this.handler = handler;
    this.expectMasked = options.expectMasked;
    this.allowRsv1 = options.allowRsv1;
  }

  /** Received bytes not yet parsed. */
  get bufferedAmount(): number {
    return this.cur.length - this.pos + this.qBytes;
  }

  /** Queue received bytes and parse as far as possible (unless halted). */
  push(chunk: Buffer): void {
    if (this.halt & HALT_DONE || chunk.length === 0) return;
    if (this.pos >= this.cur.length && this.qBytes === 0) {
      this.cur = chunk;
      this.pos = 0;
    } else {
      (this.queue ??= []).push(chunk);
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
    this.queue = null;
    this.qHead = 0;
    this.qBytes = 0;
    this.ctrl = null;
    this.handler.onStop();
  }

  private loop(): void {
    while (this.halt === 0) {
      const buf = this.cur;
      const pos = this.pos;
      if (pos >= buf.length) {
        if (this.qBytes === 0) return;
        const queue = this.queue!;
        const next = queue[this.qHead++];
        this.qBytes -= next.length;
        if (this.qHead === queue.length) {
          queue.length = 0;
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
    if (op !== 0) this.msgOpen = !this.fin;
    const err = this.handler.onFrameStart(op, this.fin, (b0 & 0x40) !== 0, len);
    if (err !== null) {
      this.failWith(err);
      return;
    }
    this.state = S_DATA;
    if (len === 0) this.emptyFrame();
  }

  private readData(buf: Buffer, pos: number): void {
    const avail = buf.length - pos;
    const n = avail < this.remaining ? avail : this.remaining;
    const end = pos + n;
    if (this.masked) unmask(buf, pos, end, keyBytes(this.key), 0, (this.frameLen - this.remaining) & 3);
    this.pos = end;
    const left = (this.remaining -= n);
    // One handler call site per data piece: a single inlined copy of the message path.
    if (left === 0) this.frameDone();
    const err = this.handler.onFrameData(buf, pos, end, left === 0);
    if (err !== null) this.failWith(err);
  }

  /** Before the last handler call of a data frame, which may pause or stop the reader. */
  private frameDone(): void {
    this.state = S_HEADER;
    if (this.fin) this.msgOpen = false;
  }

  /** An empty data frame: one handler call with an empty piece. */
  private emptyFrame(): void {
    this.frameDone();
    const err = this.handler.onFrameData(EMPTY, 0, 0, true);
    if (err !== null) this.failWith(err);
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
    this.handler.onControl(this.opcode, payload);
  }

  private fail(code: number, message: string): false {
    this.failWith(new ProtocolError(code, message));
    return false;
  }

  private failWith(err: ProtocolError): void {
    this.stop();
    this.handler.onError(err);
  }
}
