/**
 * Benchmark-only: WebAssembly SIMD masking (RFC 6455 5.3), no native code,
 * measured against lib/protocol/mask.ts's JS loop by the micro `mask` group.
 * It did not win reliably (bench/RESULTS.md, round two), so lib does not use it. The
 * module is a few dozen bytes emitted below. WebAssembly memory cannot
 * alias a Node Buffer, so each chunk is copied in, XORed 64 bytes per loop
 * turn with v128 lanes, and copied back. `createSimdMask()` returns null when
 * WebAssembly or SIMD is unavailable.
 *
 * The module, in text form:
 *
 *   (module
 *     (memory (export "m") PAGES)
 *     (func (export "x") (param $i i32) (param $e i32) (param $k i32)
 *       (local $v v128)
 *       (local.set $v (i32x4.splat (local.get $k)))
 *       (loop $l
 *         (v128.store offset=0  (local.get $i) (v128.xor (v128.load offset=0  (local.get $i)) (local.get $v)))
 *         (v128.store offset=16 (local.get $i) (v128.xor (v128.load offset=16 (local.get $i)) (local.get $v)))
 *         (v128.store offset=32 (local.get $i) (v128.xor (v128.load offset=32 (local.get $i)) (local.get $v)))
 *         (v128.store offset=48 (local.get $i) (v128.xor (v128.load offset=48 (local.get $i)) (local.get $v)))
 *         (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 64))) (local.get $e))))))
 *
 * There is no scalar tail: the loop runs whole 64-byte blocks over scratch
 * memory (at least one block; the memory has room for a chunk plus 4 KiB plus
 * one block) and only the payload bytes are copied back.
 *
 * The chunk goes to a memory offset half a page away (mod 4096) from its place
 * in the payload's ArrayBuffer: copying out between addresses equal mod 4096
 * (4K aliasing) measured 15x slower (2 GB/s instead of 30), and large
 * ArrayBuffers and WebAssembly memory are both page-aligned.
 */

/** Bytes processed per call: one 64 KiB page, small enough to stay in L2. */
export const SIMD_CHUNK = 65536;

const PAGES = SIMD_CHUNK / 65536 + 1;

/** A section: id, then its byte length (LEB128; all ours are < 128 bytes), then its content. */
function section(id: number, content: number[]): number[] {
  return [id, content.length, ...content];
}

/** The module's bytes (see the text form above). */
export function simdMaskModule(): Uint8Array {
  const LOCAL_GET = 0x20, I = 0, V = 3, SIMD = 0xfd;
  const block: number[] = [];
  for (const off of [0, 16, 32, 48]) {
    block.push(
      LOCAL_GET, I,
      LOCAL_GET, I, SIMD, 0x00 /* v128.load */, 4, off,
      LOCAL_GET, V, SIMD, 0x51 /* v128.xor */,
      SIMD, 0x0b /* v128.store */, 4, off,
    );
  }
  const body = [
    1, 1, 0x7b, // locals: one v128 ($v)
    LOCAL_GET, 2, SIMD, 0x11 /* i32x4.splat */, 0x21 /* local.set */, V,
    0x03, 0x40, // loop (no result)
    ...block,
    LOCAL_GET, I, 0x41, 0xc0, 0x00 /* i32.const 64 */, 0x6a /* i32.add */, 0x22 /* local.tee */, I,
    LOCAL_GET, 1, 0x49 /* i32.lt_u */, 0x0d, 0 /* br_if $l */,
    0x0b, // end loop
    0x0b, // end func
  ];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 0]), // type 0: (i32, i32, i32) -> ()
    ...section(3, [1, 0]), // func 0 has type 0
    ...section(5, [1, 0, PAGES]), // one memory, min PAGES
    ...section(7, [2, 1, 0x6d, 2, 0, 1, 0x78, 0, 0]), // export "m" memory 0, "x" func 0
    ...section(10, [1, body.length, ...body]),
  ]);
}

/** XOR buf[start, end) in place with the key at key[keyOffset..+3], rotated by `phase`. */
export type MaskFn = (buf: Uint8Array, start: number, end: number, key: Uint8Array, keyOffset: number, phase: number) => void;

/** The part of the WebAssembly global used here (the project's tsconfig has no DOM/wasm lib types). */
interface Wasm {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { x: (i: number, e: number, k: number) => void; m: { buffer: ArrayBuffer } } };
}

/** The SIMD masker, or null where WebAssembly SIMD is unavailable. */
export function createSimdMask(): MaskFn | null {
  let xor: (i: number, e: number, k: number) => void;
  let mem: Uint8Array;
  try {
    const wasm = (globalThis as { WebAssembly?: Wasm }).WebAssembly;
    if (typeof wasm !== 'object') return null;
    const bytes = simdMaskModule();
    if (!wasm.validate(bytes)) return null;
    const inst = new wasm.Instance(new wasm.Module(bytes));
    xor = inst.exports.x;
    mem = new Uint8Array(inst.exports.m.buffer);
  } catch {
    return null;
  }
  return (buf, start, end, key, keyOffset, phase) => {
    // WebAssembly memory is little-endian on every host: lane byte j is key byte (phase + j) & 3.
    const p = phase & 3;
    const k = key[keyOffset + p] | (key[keyOffset + ((p + 1) & 3)] << 8) |
      (key[keyOffset + ((p + 2) & 3)] << 16) | (key[keyOffset + ((p + 3) & 3)] << 24);
    // Chunks are multiples of 4 bytes, so the phase is the same at every chunk start.
    for (let i = start; i < end; i += SIMD_CHUNK) {
      const n = end - i < SIMD_CHUNK ? end - i : SIMD_CHUNK;
      const at = ((buf.byteOffset + i) ^ 2048) & 4095;
      const src = buf.subarray(i, i + n);
      mem.set(src, at);
      xor(at, at + n, k);
      src.set(mem.subarray(at, at + n));
    }
  };
}
