/**
 * The one RFC 6455 frame codec of the tests. It writes every header byte by hand and
 * shares no code with lib/protocol, so a bug there cannot hide itself here. The encoder
 * can lie (any RSV bits, any length form, a declared length that is not the payload's)
 * for hostile cases; the decoder reads a byte stream, whole or in chunks.
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
  /** RSV bits as a 3-bit number (4 = RSV1, 2 = RSV2, 1 = RSV3); OR'ed with the named flags below. */
  rsv?: number;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** A 4-byte key, true for a fresh random key, false for unmasked. Default: {@link TEST_KEY}. */
  mask?: Buffer | boolean;
  /** Force a length form: 7, 16 or 64 bits (default: the shortest). */
  lenBits?: 7 | 16 | 64;
  /** The length written in the header, when it must lie about the payload. */
  declaredLength?: number | bigint;
}

/** A decoded frame. */
export interface Frame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  key: Buffer | null;
  /** Unmasked payload (a copy). */
  payload: Buffer;
  /** Header length in bytes (to check the length form used). */
  headerLength: number;
}

/** The fixed key of exact-byte tests. */
export const TEST_KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

export function toBuf(p: Buffer | string | undefined): Buffer {
  if (p === undefined) return Buffer.alloc(0);
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

/** XOR with a 4-byte key into a new buffer (the input is left alone). */
export function xorMask(data: Buffer, key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ key[i & 3];
  return out;
}

/** Build one frame's bytes. Masked with {@link TEST_KEY} unless `mask` says otherwise. */
export function frame(spec: FrameSpec): Buffer {
  const payload = toBuf(spec.payload);
  const key = spec.mask === undefined ? TEST_KEY : spec.mask === true ? randomBytes(4) : spec.mask === false ? null : spec.mask;
  const len = spec.declaredLength ?? payload.length;
  const bits = spec.lenBits ?? (Number(len) < 126 ? 7 : Number(len) < 65536 ? 16 : 64);
  const rsv = (spec.rsv ?? 0) | (spec.rsv1 ? 4 : 0) | (spec.rsv2 ? 2 : 0) | (spec.rsv3 ? 1 : 0);
  const b0 = (spec.fin === false ? 0 : 0x80) | ((rsv & 7) << 4) | (spec.opcode & 0xf);
  const m = key ? 0x80 : 0;
  const head: number[] = [b0];
  if (bits === 7) head.push(m | Number(len));
  else if (bits === 16) head.push(m | 126, (Number(len) >> 8) & 0xff, Number(len) & 0xff);
  else {
    const big = BigInt(len);
    head.push(m | 127);
    for (let i = 7; i >= 0; i--) head.push(Number((big >> BigInt(i * 8)) & 0xffn));
  }
  if (key) head.push(...key);
  return Buffer.concat([Buffer.from(head), key ? xorMask(payload, key) : payload]);
}

/** Client-to-server frame (masked, {@link TEST_KEY} by default). */
export const cframe = (spec: FrameSpec): Buffer => frame(spec);
/** Server-to-client frame (unmasked). */
export const sframe = (spec: FrameSpec): Buffer => frame({ ...spec, mask: false });

/**
 * Frames as a peer in `role` must send them: a client masks with a fresh key per frame,
 * a server does not; a spec's own `mask` wins.
 */
export function encodeFrames(specs: FrameSpec | FrameSpec[], role: 'client' | 'server'): Buffer {
  const list = Array.isArray(specs) ? specs : [specs];
  return Buffer.concat(list.map((s) => frame({ ...s, mask: s.mask ?? role === 'client' })));
}

/** A close frame payload: code (none when undefined) followed by a raw reason. */
export function closePayload(code?: number, reason: Buffer | string = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code, 0);
  return Buffer.concat([b, toBuf(reason)]);
}

/** Splits a buffer into pieces of `size` bytes (the last may be shorter; never an empty list). */
export function chop(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, Math.min(data.length, i + size)));
  if (out.length === 0) out.push(Buffer.alloc(0));
  return out;
}

/** The frames of one message split into fragments of `size` bytes (the first carries the opcode and `rsv`). */
export function fragments(opcode: number, data: Buffer | string, size: number, rsv = 0): FrameSpec[] {
  const parts = chop(toBuf(data), size);
  return parts.map((p, i) => ({
    opcode: i === 0 ? opcode : OP.CONT,
    payload: p,
    fin: i === parts.length - 1,
    rsv: i === 0 ? rsv : 0,
  }));
}

/** The length of the frame header at the start of `bytes` (null when those bytes are not all there yet). */
export function headerLength(bytes: Buffer): number | null {
  if (bytes.length < 2) return null;
  const l7 = bytes[1] & 0x7f;
  const n = 2 + (l7 === 126 ? 2 : l7 === 127 ? 8 : 0) + (bytes[1] & 0x80 ? 4 : 0);
  return bytes.length >= n ? n : null;
}

/** Decodes the whole frames at the start of `bytes`; `rest` is what does not yet make a whole frame. */
export function decodeFrames(bytes: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let i = 0;
  for (;;) {
    const f = decodeAt(bytes, i);
    if (!f) return { frames, rest: bytes.subarray(i) };
    frames.push(f.frame);
    i = f.end;
  }
}

/** The frames of a byte stream that holds whole frames only (a trailing partial frame is an error). */
export function parseFrames(bytes: Buffer): Frame[] {
  const { frames, rest } = decodeFrames(bytes);
  if (rest.length) throw new Error(`${rest.length} bytes after the last whole frame`);
  return frames;
}

/** The code of the first close frame in `bytes` (1005 for an empty one), or null if none is complete yet. */
export function closeCodeIn(bytes: Buffer): number | null {
  const close = decodeFrames(bytes).frames.find((f) => f.opcode === OP.CLOSE);
  if (!close) return null;
  return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
}

function decodeAt(b: Buffer, i: number): { frame: Frame; end: number } | null {
  const h = headerLength(b.subarray(i, i + 14));
  if (h === null) return null;
  const l7 = b[i + 1] & 0x7f;
  const masked = (b[i + 1] & 0x80) !== 0;
  let len = l7;
  if (l7 === 126) len = b.readUInt16BE(i + 2);
  if (l7 === 127) {
    const big = b.readBigUInt64BE(i + 2);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('frame length beyond 2^53');
    len = Number(big);
  }
  if (b.length - i < h + len) return null;
  const key = masked ? Buffer.from(b.subarray(i + h - 4, i + h)) : null;
  const raw = b.subarray(i + h, i + h + len);
  const payload = key ? xorMask(raw, key) : Buffer.from(raw);
  const b0 = b[i];
  return { frame: { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0xf, masked, key, payload, headerLength: h }, end: i + h + len };
}

/**
 * Incremental decoder over whatever chunks arrive. Chunks are only joined once a whole
 * frame is there, so a 16 MiB frame in 64 KiB reads costs one copy, not hundreds.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private total = 0;

  push(chunk: Buffer): Frame[] {
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.total += chunk.length;
    const out: Frame[] = [];
    for (;;) {
      if (this.total < 2) return out;
      const h = headerLength(this.peek(Math.min(this.total, 14)));
      if (h === null) return out;
      const needed = h + frameLength(this.chunks[0]);
      if (this.total < needed) return out;
      const b = this.peek(needed);
      const f = decodeAt(b, 0)!;
      out.push(f.frame);
      const rest = b.subarray(f.end);
      // peek() either joined everything into chunks[0] or found the frame inside it.
      if (rest.length) this.chunks[0] = rest; else this.chunks.shift();
      this.total -= f.end;
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
}

/** The payload length of the frame whose (complete) header starts `b`. */
function frameLength(b: Buffer): number {
  const l7 = b[1] & 0x7f;
  if (l7 === 126) return b.readUInt16BE(2);
  if (l7 !== 127) return l7;
  const big = b.readBigUInt64BE(2);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('frame length beyond 2^53');
  return Number(big);
}
