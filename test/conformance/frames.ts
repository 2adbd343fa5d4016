/**
 * A small, deliberately independent RFC 6455 frame encoder/decoder for the conformance
 * tests. It shares no code with lib/protocol so a bug there cannot hide itself here.
 */
import { randomBytes } from 'node:crypto';

export const OP = {
  CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa,
} as const;

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  /** Default true. */
  fin?: boolean;
  /** RSV bits as a 3-bit number (4 = RSV1, 2 = RSV2, 1 = RSV3). */
  rsv?: number;
  /** Overrides the role's masking choice (true = random key, Buffer = this key, false = none). */
  mask?: boolean | Buffer;
}

export interface Frame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  /** Unmasked payload. */
  payload: Buffer;
}

export function toBuf(p: Buffer | string | undefined): Buffer {
  if (p === undefined) return Buffer.alloc(0);
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

function xor(data: Buffer, key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ key[i & 3];
  return out;
}

/** Encodes one frame; `masked` is the role default (a client peer masks). */
export function encodeFrame(spec: FrameSpec, masked: boolean): Buffer {
  const payload = toBuf(spec.payload);
  const fin = spec.fin ?? true;
  const rsv = spec.rsv ?? 0;
  const maskOpt = spec.mask ?? masked;
  const key = maskOpt === false ? null : maskOpt === true ? randomBytes(4) : maskOpt;
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + (key ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (spec.opcode & 0xf);
  const lenField = ext === 0 ? len : ext === 2 ? 126 : 127;
  head[1] = (key ? 0x80 : 0) | lenField;
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (key) key.copy(head, 2 + ext);
  return Buffer.concat([head, key ? xor(payload, key) : payload]);
}

/** A close frame payload: code (or none when undefined) followed by a raw reason. */
export function closePayload(code?: number, reason: Buffer | string = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code, 0);
  return Buffer.concat([b, toBuf(reason)]);
}

/**
 * Incremental decoder over whatever chunks arrive. Chunks are only joined once a whole
 * frame is there, so a 16 MiB frame in 64 KiB reads costs one copy, not hundreds.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private total = 0;

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.total += chunk.length;
    const out: Frame[] = [];
    for (;;) {
      const f = this.next();
      if (!f) return out;
      out.push(f);
    }
  }

  /** Bytes received that do not yet form a complete frame. */
  get pending(): number { return this.total; }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  private next(): Frame | null {
    if (this.total < 2) return null;
    let b = this.peek(2);
    let len = b[1] & 0x7f;
    const masked = (b[1] & 0x80) !== 0;
    const ext = len === 126 ? 2 : len === 127 ? 8 : 0;
    const headLen = 2 + ext + (masked ? 4 : 0);
    if (this.total < headLen) return null;
    b = this.peek(headLen);
    if (ext === 2) len = b.readUInt16BE(2);
    if (ext === 8) {
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('frame length beyond 2^53');
      len = Number(big);
    }
    if (this.total < headLen + len) return null;
    b = this.peek(headLen + len);
    const raw = b.subarray(headLen, headLen + len);
    const payload = masked ? xor(raw, b.subarray(2 + ext, 2 + ext + 4)) : Buffer.from(raw);
    const frame = { fin: (b[0] & 0x80) !== 0, rsv: (b[0] >> 4) & 7, opcode: b[0] & 0xf, masked, payload };
    const rest = b.subarray(headLen + len);
    // peek() either joined everything into chunks[0] or found the frame inside it.
    if (rest.length) this.chunks[0] = rest; else this.chunks.shift();
    this.total -= headLen + len;
    return frame;
  }
}

/** Splits a buffer into pieces of `size` bytes (the last may be shorter). */
export function chop(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, Math.min(data.length, i + size)));
  if (out.length === 0) out.push(Buffer.alloc(0));
  return out;
}

/** The frames of one message split into fragments of `size` bytes (first carries the opcode). */
export function fragments(opcode: number, data: Buffer | string, size: number, rsv = 0): FrameSpec[] {
  const parts = chop(toBuf(data), size);
  return parts.map((p, i) => ({
    opcode: i === 0 ? opcode : OP.CONT,
    payload: p,
    fin: i === parts.length - 1,
    rsv: i === 0 ? rsv : 0,
  }));
}
