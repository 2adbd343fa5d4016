/**
 * Pre-built wire bytes for the benchmarks, written independently of lib/ so the load generator
 * measures every server (ours included) with the same bytes and checks echoes without trusting
 * the code under test.
 */
import { createHash, randomBytes } from 'node:crypto';

export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;

/** Deterministic payload: printable ASCII for text (valid UTF-8), pseudo-random bytes for binary. */
export function makePayload(size: number, text: boolean, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = text ? 0x20 + (x % 95) : x & 0xff;
  }
  return b;
}

/** Text with 1-4 byte UTF-8 sequences (valid), for the validator bench. */
export function makeMixedUtf8(size: number): Buffer {
  const parts = ['plain ascii ', 'été ', 'Ελληνικά ', '日本語テキスト ', '😀🚀 '];
  const chunks: Buffer[] = [];
  let n = 0; let i = 0;
  while (n < size) { const c = Buffer.from(parts[i++ % parts.length]!); chunks.push(c); n += c.length; }
  // Trim back to a code point boundary at or below size.
  const all = Buffer.concat(chunks);
  let end = Math.min(size, all.length);
  while (end > 0 && (all[end]! & 0xc0) === 0x80) end--;
  return all.subarray(0, end);
}

export function headerLength(len: number, masked: boolean): number {
  return (len < 126 ? 2 : len < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/** One frame. `mask` (4 bytes) masks it as a client must; null leaves it unmasked (server). */
export function buildFrame(payload: Buffer, opcode: number, mask: Buffer | null, fin = true, rsv1 = false): Buffer {
  const len = payload.length;
  const hl = headerLength(len, mask !== null);
  const f = Buffer.allocUnsafe(hl + len);
  f[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  let o = 2;
  if (len < 126) f[1] = len;
  else if (len < 65536) { f[1] = 126; f.writeUInt16BE(len, 2); o = 4; }
  else { f[1] = 127; f.writeUInt32BE(Math.floor(len / 2 ** 32), 2); f.writeUInt32BE(len >>> 0, 6); o = 10; }
  if (mask) {
    f[1]! |= 0x80;
    mask.copy(f, o); o += 4;
    for (let i = 0; i < len; i++) f[o + i] = payload[i]! ^ mask[i & 3]!;
  } else {
    payload.copy(f, o);
  }
  return f;
}

/** A fixed, non-zero mask key (servers must not care which key the client picks). */
export const BENCH_MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

/** `count` copies of the same frame back to back: slices of it are batches of 1..count frames. */
export function repeatFrame(frame: Buffer, count: number): Buffer {
  const b = Buffer.allocUnsafe(frame.length * count);
  for (let i = 0; i < count; i++) frame.copy(b, i * frame.length);
  return b;
}

/** The HTTP/1.1 upgrade request a client sends (RFC 6455 4.1). */
/** JSON-ish text that compresses the way real chat/API traffic does (for the deflate cells). */
export function jsonish(size: number): Buffer {
  let s = '';
  for (let i = 0; s.length < size; i++) {
    s += `{"id":${i * 7919 % 100003},"user":"user${i % 97}","type":"${['update', 'insert', 'delete'][i % 3]}","value":${(i * 31) % 1000 / 10},"tags":["a${i % 5}","b${i % 11}"]},`;
  }
  return Buffer.from(s.slice(0, size), 'latin1');
}

export function upgradeRequest(host: string, port: number, path = '/', extensions?: string): Buffer {
  const key = randomBytes(16).toString('base64');
  return Buffer.from(
    `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
    (extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : '') + '\r\n', 'latin1');
}

/** A client close frame with code 1000 (masked). */
export function closeFrame(code = 1000): Buffer {
  const p = Buffer.alloc(2); p.writeUInt16BE(code, 0);
  return buildFrame(p, 0x8, BENCH_MASK);
}

/** The Sec-WebSocket-Accept a server must answer to `request` (RFC 6455 4.2.2: SHA-1 of key + GUID, base64). */
export function expectedAccept(request: Buffer): string {
  const key = /\r\nSec-WebSocket-Key: ([^\r]+)\r\n/.exec(request.toString('latin1'))?.[1];
  if (!key) throw new Error('no Sec-WebSocket-Key in the request');
  return createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
}

/**
 * The bytes of one handshake-rate cycle (bench/loadgen.ts `handshakes`, bench/loadgen-handshake.c):
 * the upgrade request, one masked text message of `size` bytes, and the echo expected for it
 * (raw: a TCP echo server returns the frame itself).
 */
export function handshakeCycleBytes(host: string, port: number, size: number, raw: boolean): { request: Buffer; frame: Buffer; reply: Buffer } {
  const payload = makePayload(size, true);
  const frame = buildFrame(payload, OP_TEXT, BENCH_MASK);
  return { request: upgradeRequest(host, port), frame, reply: raw ? frame : buildFrame(payload, OP_TEXT, null) };
}
