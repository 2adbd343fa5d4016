/**
 * Child process: in-process hot-path benchmarks, each case beside its peer in the same process.
 * ws decides at load time whether to use bufferutil, so the parent runs this twice per round:
 * once with WS_NO_BUFFER_UTIL=1 (ws pure JS) and once without (ws + bufferutil, when installed).
 *
 * Groups: parse (Connection vs ws Receiver), write (frame encoding and the send path vs ws
 * Sender), mask (vs Buffer.copy and ws's masking), utf8 (vs buffer.isUtf8), deflate (round trip
 * vs ws's permessage-deflate and bare zlib).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isUtf8 } from 'node:buffer';
import zlib from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { BENCH_MASK, OP_BINARY, OP_TEXT, buildFrame, makeMixedUtf8, makePayload } from './frames.js';
import { importLib, serveParent } from './util.js';
import { createSimdMask } from './mask-simd.js';

const require = createRequire(import.meta.url);
/** ws's internal files are not in its package exports: load them by absolute path. */
const wsLib = (f: string) => require(join(dirname(require.resolve('ws')), 'lib', f));

export interface MicroResult {
  group: string; case: string; impl: string;
  /** Operations (frames, messages, calls) per second. */
  opsPerSec: number;
  /** Payload bytes per second. */
  bytesPerSec: number;
}

interface Ctx { ms: number; out: MicroResult[]; pending: Pending[] }

/** One implementation of the current case: a step returns [ops, bytes] or [ops, bytes, timed ms]. */
interface Pending { group: string; name: string; impl: string; step: () => Step | Promise<Step> }
type Step = [number, number] | [number, number, number];

/** Register an implementation for the current case; runCase() measures them side by side. */
function time(ctx: Ctx, group: string, name: string, impl: string, step: () => Step | Promise<Step>): void {
  ctx.pending.push({ group, name, impl, step });
}
const timeAsync = time;

const SLICES = 8;

/**
 * Measure every implementation registered for one case in alternating short slices, so load from
 * other processes on this shared machine hits all of them alike, and keep each one's best slice:
 * the least-disturbed estimate (what `timeit` recommends for noisy machines).
 */
async function runCase(ctx: Ctx): Promise<void> {
  const list = ctx.pending; ctx.pending = [];
  const sliceMs = ctx.ms / SLICES;
  const one = async (p: Pending, ms: number): Promise<[number, number, number]> => {
    let ops = 0; let bytes = 0; let elapsed = 0;
    const end = performance.now() + ms;
    do {
      const t = performance.now();
      let r = p.step();
      if (r instanceof Promise) r = await r;
      const dt = r.length === 3 ? r[2] : performance.now() - t;
      ops += r[0]; bytes += r[1]; elapsed += dt;
    } while (performance.now() < end);
    return [ops, bytes, elapsed];
  };
  for (const p of list) await one(p, Math.max(20, ctx.ms * 0.3));
  const best = list.map(() => ({ ops: 0, bytes: 0 }));
  for (let sl = 0; sl < SLICES; sl++) {
    for (let i = 0; i < list.length; i++) {
      const [o, b, ms] = await one(list[i]!, sliceMs);
      const sec = ms / 1000;
      if (o / sec > best[i]!.ops) best[i] = { ops: o / sec, bytes: b / sec };
    }
  }
  list.forEach((p, i) => ctx.out.push({ group: p.group, case: p.name, impl: p.impl, opsPerSec: best[i]!.ops, bytesPerSec: best[i]!.bytes }));
}

const sizeName = (n: number) => (n >= 1 << 20 ? `${n >> 20} MiB` : n >= 1024 ? `${n >> 10} KiB` : `${n} B`);

// ---------------------------------------------------------------- parse

const CHUNK = 64 * 1024;

/** A stream of masked frames cut into 64 KiB chunks, refreshed from a pristine copy before each
 * pass (both parsers unmask in place, so a chunk can be parsed only once). */
function frameStream(size: number, text: boolean) {
  const frame = buildFrame(makePayload(size, text), text ? OP_TEXT : OP_BINARY, BENCH_MASK);
  const count = Math.max(2, Math.ceil((2 << 20) / frame.length));
  const pristine = Buffer.allocUnsafe(frame.length * count);
  for (let i = 0; i < count; i++) frame.copy(pristine, i * frame.length);
  const chunks: Buffer[] = [];
  for (let o = 0; o < pristine.length; o += CHUNK) chunks.push(Buffer.allocUnsafe(Math.min(CHUNK, pristine.length - o)));
  const refresh = () => { for (let i = 0; i < chunks.length; i++) pristine.copy(chunks[i]!, 0, i * CHUNK, i * CHUNK + chunks[i]!.length); };
  return { count, chunks, refresh, bytes: count * size };
}

/** Register a parser: one step = one pass over the stream; the refresh copy before it is not timed. */
function timeParse(ctx: Ctx, name: string, impl: string, s: ReturnType<typeof frameStream>, feed: (c: Buffer) => void, delivered: () => number): void {
  time(ctx, 'parse', name, impl, () => {
    s.refresh();
    const before = delivered();
    const t = performance.now();
    for (const c of s.chunks) feed(c);
    const dt = performance.now() - t;
    if (delivered() - before !== s.count) throw new Error(`${impl} delivered ${delivered() - before} of ${s.count} messages (${name})`);
    return [s.count, s.bytes, dt];
  });
}

async function parse(ctx: Ctx, wsName: string) {
  const conn = await importLib('protocol/connection.js');
  const { Receiver } = require('ws') as any;
  const cases: Array<[number, boolean]> = [[16, false], [125, false], [1024, false], [1024, true], [65536, false], [1 << 20, false]];
  for (const [size, text] of cases) {
    const name = `${sizeName(size)}${text ? ' text' : ''}`;
    const s = frameStream(size, text);
    if (conn?.Connection) {
      let n = 0;
      const c = new conn.Connection({
        write() {}, onMessage() { n++; }, onPing() {}, onPong() {}, onCloseFrame() {}, onCloseWritten() {}, setReading() {},
        onFail(e: Error) { throw e; },
      }, { role: 'server', maxPayload: 128 << 20 });
      timeParse(ctx, name, 'ours', s, (b) => c.receive(b), () => n);
    }
    let m = 0;
    const r = new Receiver({ isServer: true, maxPayload: 128 << 20 });
    r.on('message', () => { m++; });
    r.on('error', (e: Error) => { throw e; });
    // ws feeds socket chunks to its Receiver with write(): the same entry point here.
    timeParse(ctx, name, wsName, s, (b) => r.write(b), () => m);
    await runCase(ctx);
  }
}

// ---------------------------------------------------------------- write

async function write(ctx: Ctx, wsName: string) {
  const fw = await importLib('protocol/frame-writer.js');
  const conn = await importLib('protocol/connection.js');
  const { Sender } = require('ws') as any;
  const noop = () => {};
  for (const size of [16, 125, 1024, 65536, 1 << 20]) {
    const payload = makePayload(size, false);
    const reps = Math.max(1, Math.floor(65536 / (size + 16)));
    for (const masked of [false, true]) {
      const name = `${sizeName(size)} ${masked ? 'client (masked)' : 'server'}`;
      if (fw?.encodeFrame) {
        time(ctx, 'encode', name, 'ours', () => { for (let i = 0; i < reps; i++) fw.encodeFrame(0x82, payload, masked); return [reps, reps * size]; });
      }
      const opts = { fin: true, opcode: 2, mask: masked, readOnly: true, rsv1: false };
      time(ctx, 'encode', name, wsName, () => { for (let i = 0; i < reps; i++) Sender.frame(payload, opts); return [reps, reps * size]; });

      // The send path down to the socket write (a no-op sink), as the server/client uses it.
      if (conn?.Connection) {
        const c = new conn.Connection({ write: noop, onMessage: noop, onPing: noop, onPong: noop, onCloseFrame: noop, onCloseWritten: noop, setReading: noop, onFail: noop },
          { role: masked ? 'client' : 'server' });
        time(ctx, 'send', name, 'ours', () => { for (let i = 0; i < reps; i++) c.send(payload, true); return [reps, reps * size]; });
      }
      const sock = { cork: noop, uncork: noop, write: () => true };
      const snd = new Sender(sock);
      const sopts = { binary: true, fin: true, mask: masked, compress: false };
      time(ctx, 'send', name, wsName, () => { for (let i = 0; i < reps; i++) snd.send(payload, sopts); return [reps, reps * size]; });
      await runCase(ctx);
    }
  }
}

// ---------------------------------------------------------------- mask

async function mask(ctx: Ctx, wsName: string) {
  const m = await importLib('protocol/mask.js');
  const wsBuf = wsLib('buffer-util.js');
  // WebAssembly SIMD with the copies in and out (bench/mask-simd.ts; not used by lib: see RESULTS.md round two).
  const simd = createSimdMask();
  for (const size of [16, 125, 1024, 4096, 16384, 65536, 1 << 20]) {
    const buf = makePayload(size, false);
    const dst = Buffer.allocUnsafe(size);
    const reps = Math.max(1, Math.floor((256 * 1024) / size));
    const name = sizeName(size);
    if (m?.unmask) time(ctx, 'mask', name, 'ours', () => { for (let i = 0; i < reps; i++) m.unmask(buf, 0, size, BENCH_MASK, 0, 0); return [reps, reps * size]; });
    if (simd && size >= 1024) time(ctx, 'mask', name, 'wasm simd', () => { for (let i = 0; i < reps; i++) simd(buf, 0, size, BENCH_MASK, 0, 0); return [reps, reps * size]; });
    time(ctx, 'mask', name, wsName, () => { for (let i = 0; i < reps; i++) wsBuf.unmask(buf, BENCH_MASK); return [reps, reps * size]; });
    time(ctx, 'mask', name, 'Buffer.copy', () => { for (let i = 0; i < reps; i++) buf.copy(dst); return [reps, reps * size]; });
    await runCase(ctx);
  }
}

// ---------------------------------------------------------------- utf8

async function utf8(ctx: Ctx) {
  const u = await importLib('protocol/utf8.js');
  for (const mixed of [false, true]) {
    for (const size of [16, 1024, 65536, 1 << 20]) {
      const buf = mixed ? makeMixedUtf8(size) : makePayload(size, true);
      const reps = Math.max(1, Math.floor((256 * 1024) / size));
      const name = `${sizeName(size)} ${mixed ? 'mixed' : 'ascii'}`;
      if (u?.isValidUtf8) time(ctx, 'utf8', name, 'ours isValidUtf8', () => { for (let i = 0; i < reps; i++) if (!u.isValidUtf8(buf)) throw new Error('invalid?'); return [reps, reps * buf.length]; });
      if (u?.Utf8Validator) {
        const v = new u.Utf8Validator();
        time(ctx, 'utf8', name, 'ours Utf8Validator', () => { for (let i = 0; i < reps; i++) { v.write(buf); if (!v.end()) throw new Error('invalid?'); } return [reps, reps * buf.length]; });
      }
      time(ctx, 'utf8', name, 'buffer.isUtf8', () => { for (let i = 0; i < reps; i++) if (!isUtf8(buf)) throw new Error('invalid?'); return [reps, reps * buf.length]; });
      await runCase(ctx);
    }
  }
}

// ---------------------------------------------------------------- deflate

function jsonish(size: number): Buffer {
  let s = '';
  for (let i = 0; s.length < size; i++) s += `{"id":${i * 7919 % 100003},"user":"user${i % 97}","value":${(i * 31) % 1000 / 10}},`;
  return Buffer.from(s.slice(0, size), 'latin1');
}

type Cb = (err: Error | null, out?: Buffer) => void;
interface Pair { compress(d: Buffer, cb: Cb): void; decompress(d: Buffer, cb: Cb): void; close(): void }

function zlibPair(): Pair {
  // The ceiling: one deflateRaw and one inflateRaw stream, sync-flushed per message, context kept.
  const mk = (s: zlib.DeflateRaw | zlib.InflateRaw, strip: boolean) => {
    let chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    return (d: Buffer, cb: Cb) => {
      s.write(d);
      s.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        let out = Buffer.concat(chunks); chunks = [];
        if (strip) out = out.subarray(0, out.length - 4);
        cb(null, out);
      });
    };
  };
  const def = zlib.createDeflateRaw(); const inf = zlib.createInflateRaw();
  const tail = Buffer.from([0, 0, 0xff, 0xff]);
  const c = mk(def, true); const dd = mk(inf, false);
  return { compress: c, decompress: (d, cb) => dd(Buffer.concat([d, tail]), cb), close: () => { def.close(); inf.close(); } };
}

function wsPair(): Pair {
  const PMD = wsLib('permessage-deflate.js');
  const s = new PMD({ threshold: 0, isServer: true }); s.accept([{}]);
  const c = new PMD({ threshold: 0, isServer: false }); c.accept([{}]);
  return { compress: (d, cb) => s.compress(d, true, cb), decompress: (d, cb) => c.decompress(d, true, cb), close: () => { s.cleanup(); c.cleanup(); } };
}

async function oursPair(): Promise<Pair | null> {
  // Through the handshake's own negotiation (default options on both sides), as a connection gets it.
  const ext = await importLib('handshake/extensions.js');
  const hdr = await importLib('http/extension-header.js');
  if (!ext?.negotiateServerExtensions || !hdr?.parseExtensionHeader) return null;
  const opts = ext.deflateOptions(true);
  const max = 128 << 20;
  const server = ext.negotiateServerExtensions(hdr.parseExtensionHeader(ext.clientExtensionOffer(opts)), opts, max);
  const client = ext.acceptClientExtensions(server.header, opts, max, { status: 101, headers: {} });
  const s = server.transform;
  const c = client.transform;
  if (!s || !c) return null;
  return { compress: (d, cb) => s.compress(d, true, cb), decompress: (d, cb) => c.decompress(d, true, cb), close: () => { s.dispose(); c.dispose(); } };
}

async function deflate(ctx: Ctx) {
  const pairs: Array<[string, () => Promise<Pair | null> | Pair]> = [['ours', oursPair], ['ws', wsPair], ['bare zlib', zlibPair]];
  for (const size of [1024, 65536]) {
    const data = jsonish(size);
    const opened: Pair[] = [];
    for (const [impl, mk] of pairs) {
      let p: Pair | null;
      try { p = await mk(); } catch (e) { console.error(`deflate bench: ${impl}: ${(e as Error).message}`); continue; }
      if (!p) continue;
      const pp = p;
      const one = () => new Promise<[number, number]>((res, rej) => {
        pp.compress(data, (e, out) => {
          if (e) return rej(e);
          pp.decompress(out!, (e2, back) => {
            if (e2) return rej(e2);
            if (!back!.equals(data)) return rej(new Error(`${impl}: round trip mismatch`));
            res([1, size]);
          });
        });
      });
      timeAsync(ctx, 'deflate', `${sizeName(size)} json`, impl, one);
      opened.push(pp);
    }
    await runCase(ctx);
    for (const p of opened) p.close();
  }
}

// ---------------------------------------------------------------- entry

async function run(args: { ms: number; groups: string[] }) {
  const wsName = process.env.WS_NO_BUFFER_UTIL ? 'ws' : 'ws+bufferutil';
  const ctx: Ctx = { ms: args.ms, out: [], pending: [] };
  const errors: string[] = [];
  const g: Record<string, () => Promise<void>> = {
    parse: () => parse(ctx, wsName), write: () => write(ctx, wsName), mask: () => mask(ctx, wsName),
    utf8: () => utf8(ctx), deflate: () => deflate(ctx),
  };
  for (const name of args.groups) {
    try { await g[name]!(); } catch (e) { errors.push(`${name}: ${(e as Error).stack ?? e}`); }
  }
  return { results: ctx.out, errors };
}

if (process.send) serveParent({ run });
