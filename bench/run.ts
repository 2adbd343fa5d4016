/**
 * The benchmark suite: `npm run bench` (full, ~15 min) or `npm run bench -- --quick` (~1 min).
 * Hot-path micro benches, end-to-end echo throughput/latency against peer servers, the client
 * role, idle memory per connection and permessage-deflate; writes bench/RESULTS.md
 * (quick mode: bench/RESULTS.quick.md unless --out is given).
 *
 * Flags: --quick, --runs N, --only micro,e2e,client,handshake,memory,deflate,h2, --out FILE, --conns-idle N
 * (`h2`, `web`, `storm`, `fanout` and `streams` are not in the default list: `--only h2` / `--only web` /
 * `--only storm` / `--only fanout` / `--only fanout-cross` / `--only streams` write their own sections into the results file; `storm` is the
 * reconnect storm of bench/storm.ts)
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  type Child, commandLine, describeEnv, fmtBytes, fmtMed, fmtNum, fmtRatio, mdTable, median, ROOT, sleep, startChild,
} from './util.js';
import { envLines, RESULTS_FILE, upsertSection } from './results.js';
import { stormSection } from './storm.js';
import { webSection } from './web.js';
import { fanoutSection } from './fanout.js';
import { fanoutCrossSection } from './fanout-cross.js';
import { runStreams } from './streams.js';
import { handshakeCell } from './handshake-rate.js';

const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const flag = (n: string) => argv.includes(`--${n}`);
const opt = (n: string) => { const i = argv.indexOf(`--${n}`); return i >= 0 ? argv[i + 1] : undefined; };

const quick = flag('quick');
const RUNS = Number(opt('runs') ?? (quick ? 1 : 3));
const ONLY = (opt('only') ?? 'micro,e2e,client,handshake,memory,deflate').split(',');
/** Cells that write a section of their own (not part of the suite's main section). */
const OWN_SECTIONS = new Set(['h2', 'web', 'storm', 'fanout', 'fanout-cross', 'streams']);
const OUT = opt('out') ?? (quick ? join(ROOT, 'bench', 'RESULTS.quick.md') : RESULTS_FILE);
const IDLE_CONNS = Number(opt('conns-idle') ?? (quick ? 2000 : 10000));
const MICRO_MS = quick ? 80 : 200;
const WARMUP_MS = 200;
const DURATION_MS = quick ? 400 : 500;
/** End-to-end cells are the noisiest (two processes, the kernel, other tenants): more, shorter runs. */
const E2E_RUNS = Number(opt('runs') ?? (quick ? 1 : 5));
/** Total bytes in flight per cell are capped (1 MiB x 64 conns x 32 would be 2 GiB). */
const MAX_INFLIGHT_BYTES = 256 << 20;
const SERVER_CPU = 0;
const CLIENT_CPU = 1;
const FD_LIMIT = 65536;

const t0 = Date.now();
const log = (s: string) => console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}`);

// ---------------------------------------------------------------- peers

function loads(mod: string): boolean { try { require(mod); return true; } catch { return false; } }
const HAVE_BUFFERUTIL = loads('bufferutil');
const HAVE_UWS = (() => {
  try { require(`@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`); return true; } catch { return false; }
})();

interface ServerDef { name: string; kind: string; env: Record<string, string | undefined> }
const SERVER_DEFS: ServerDef[] = [
  { name: 'ours', kind: 'ours', env: {} },
  { name: 'ws', kind: 'ws', env: { WS_NO_BUFFER_UTIL: '1' } },
  ...(HAVE_BUFFERUTIL ? [{ name: 'ws+bufferutil', kind: 'ws', env: { WS_NO_BUFFER_UTIL: undefined } }] : []),
  ...(HAVE_UWS ? [{ name: 'uWS.js', kind: 'uws', env: {} }] : []),
  { name: 'raw net', kind: 'raw', env: {} },
];

interface Server { def: ServerDef; child: Child; port: number }

async function startServer(def: ServerDef, deflate = false): Promise<Server | string> {
  const child = startChild('echo-server.js', {
    cpu: SERVER_CPU, env: def.env, fdLimit: FD_LIMIT, nodeArgs: ['--expose-gc'],
    args: [def.kind, ...(deflate ? ['deflate'] : [])],
  });
  try {
    const r = await child.ready;
    if (r.error) { await child.stop(); return r.error as string; }
    return { def, child, port: r.port };
  } catch (e) { return (e as Error).message; }
}

// ---------------------------------------------------------------- result collection

const notes: string[] = [];
const sections: string[] = [];
const targets: Array<[string, string, boolean | null]> = [];
function target(name: string, detail: string, met: boolean | null) { targets.push([name, detail, met]); }

// ---------------------------------------------------------------- micro

async function micro() {
  log('micro: hot path in-process');
  const samples = new Map<string, { ops: number[]; bytes: number[]; tags: string[] }>();
  const add = (r: any, tag: string) => {
    const k = `${r.group}|${r.case}|${r.impl}`;
    const s = samples.get(k) ?? { ops: [], bytes: [], tags: [] };
    s.ops.push(r.opsPerSec); s.bytes.push(r.bytesPerSec); s.tags.push(tag); samples.set(k, s);
  };
  const modes = HAVE_BUFFERUTIL ? ['pure', 'bu'] : ['pure'];
  for (let r = 0; r < RUNS; r++) {
    for (const mode of modes) {
      const child = startChild('micro.js', { cpu: CLIENT_CPU, env: { WS_NO_BUFFER_UTIL: mode === 'pure' ? '1' : undefined } });
      await child.ready;
      const groups = mode === 'pure' ? ['parse', 'write', 'mask', 'utf8', 'deflate'] : ['parse', 'write', 'mask'];
      const res = await child.request('run', { ms: MICRO_MS, groups }, 600_000);
      for (const e of res.errors) { log(`micro error: ${e}`); notes.push(`micro (${mode}): ${e.split('\n')[0]}`); }
      for (const x of res.results) add(x, `${r}|${mode}`);
      await child.stop();
    }
  }
  const get = (g: string, c: string, i: string, what: 'ops' | 'bytes') => samples.get(`${g}|${c}|${i}`)?.[what] ?? [];
  const med = (g: string, c: string, i: string, what: 'ops' | 'bytes') => median(get(g, c, i, what));
  /** Ratio a/b: the median of the ratios measured side by side in the same child (robust to drift). */
  const rat = (g: string, c: string, a: string, b: string, what: 'ops' | 'bytes' = 'ops') => {
    const A = samples.get(`${g}|${c}|${a}`); const B = samples.get(`${g}|${c}|${b}`);
    if (!A || !B) return NaN;
    const rs: number[] = [];
    A.tags.forEach((t, i) => { const j = B.tags.indexOf(t); if (j >= 0) rs.push(A[what][i]! / B[what][j]!); });
    return median(rs);
  };
  const cases = (g: string) => [...new Set([...samples.keys()].filter((k) => k.startsWith(g + '|')).map((k) => k.split('|')[1]!))];
  const gb = (x: number) => (x / 1e9).toFixed(2);
  const mb = (x: number) => fmtNum(x / 1e6);
  const out: string[] = ['## Hot path, in-process', '',
    'Each case runs beside its peers in the same process, in alternating slices (8 per implementation, ' + MICRO_MS + ' ms in all); ' +
    'each run keeps every implementation\'s best slice (the least disturbed by other load on this shared machine). ' +
    'The parent alternates a child with ws in pure JS (`WS_NO_BUFFER_UTIL=1`) and one with bufferutil; medians of ' + RUNS +
    ' run(s) per mode (ours: of both), ±spread = (max-min)/median; ratios are the median of the ratios measured side by side in the same child.', ''];

  // parse
  const bu = HAVE_BUFFERUTIL ? 'ws+bufferutil' : '';
  let rows = cases('parse').map((c) => {
    return [c, fmtMed(get('parse', c, 'ours', 'ops')), fmtMed(get('parse', c, 'ws', 'ops')), bu ? fmtMed(get('parse', c, bu, 'ops')) : 'n/a',
      mb(med('parse', c, 'ours', 'bytes')), mb(med('parse', c, 'ws', 'bytes')), bu ? mb(med('parse', c, bu, 'bytes')) : 'n/a',
      fmtRatio(rat('parse', c, 'ours', 'ws')), fmtRatio(bu ? rat('parse', c, 'ours', bu) : NaN)];
  });
  out.push('### Frame parsing (masked frames fed in 64 KiB chunks; Connection role server vs ws Receiver.write)', '',
    mdTable(['payload', 'ours frames/s', 'ws frames/s', 'ws+bu frames/s', 'ours MB/s', 'ws MB/s', 'ws+bu MB/s', 'ours/ws', 'ours/ws+bu'], rows), '');
  if (get('parse', '16 B', 'ours', 'ops').length) {
    const r16 = rat('parse', '16 B', 'ours', 'ws');
    target('Parser 16 B frames/s >= 2x ws Receiver', fmtRatio(r16), r16 >= 2);
    const big = ['1 KiB', '64 KiB', '1 MiB'].map((c) => rat('parse', c, 'ours', bu || 'ws'));
    target(`Parser >= 1 KiB: MB/s >= ${bu || 'ws'}`, big.map(fmtRatio).join(' / ') + ' (1 KiB / 64 KiB / 1 MiB)', big.every((x) => x >= 1));
  }

  // encode + send
  for (const g of ['encode', 'send']) {
    rows = cases(g).map((c) => {
      return [c, fmtMed(get(g, c, 'ours', 'ops')), fmtMed(get(g, c, 'ws', 'ops')), bu ? fmtMed(get(g, c, bu, 'ops')) : 'n/a',
        fmtRatio(rat(g, c, 'ours', 'ws')), fmtRatio(bu ? rat(g, c, 'ours', bu) : NaN)];
    });
    out.push(g === 'encode'
      ? '### Frame writing: `encodeFrame` vs ws `Sender.frame` (frames/s)'
      : '### Send path: `Connection.send` (no-op write sink) vs ws `Sender.send` (no-op socket) (frames/s)', '',
    mdTable(['payload / role', 'ours', 'ws', 'ws+bu', 'ours/ws', 'ours/ws+bu'], rows), '');
  }

  // mask
  rows = cases('mask').map((c) => [c, gb(med('mask', c, 'ours', 'bytes')), gb(med('mask', c, 'ws', 'bytes')),
    bu ? gb(med('mask', c, bu, 'bytes')) : 'n/a', gb(med('mask', c, 'Buffer.copy', 'bytes')),
    fmtRatio(rat('mask', c, 'ours', 'ws')), fmtRatio(rat('mask', c, 'ours', 'Buffer.copy')),
    ...(Number.isFinite(med('mask', c, 'wasm simd', 'bytes')) ? [gb(med('mask', c, 'wasm simd', 'bytes')), fmtRatio(rat('mask', c, 'wasm simd', 'ours'))] : ['n/a', 'n/a'])]);
  out.push('### Masking (in place) vs Buffer.copy of the same bytes (GB/s)', '',
    mdTable(['size', 'ours', 'ws (JS)', 'ws+bufferutil', 'Buffer.copy', 'ours/ws', 'ours/copy', 'wasm simd (bench/mask-simd.ts)', 'wasm/ours'], rows), '');

  // utf8
  rows = cases('utf8').map((c) => [c, gb(med('utf8', c, 'ours isValidUtf8', 'bytes')), gb(med('utf8', c, 'ours Utf8Validator', 'bytes')),
    gb(med('utf8', c, 'buffer.isUtf8', 'bytes')), fmtRatio(rat('utf8', c, 'ours Utf8Validator', 'buffer.isUtf8'))]);
  out.push('### UTF-8 validation vs buffer.isUtf8 (GB/s)', '',
    mdTable(['input', 'ours isValidUtf8', 'ours Utf8Validator (write+end)', 'buffer.isUtf8', 'validator/isUtf8'], rows), '');

  // deflate
  rows = cases('deflate').map((c) => [c, fmtMed(get('deflate', c, 'ours', 'ops')), fmtMed(get('deflate', c, 'ws', 'ops')),
    fmtMed(get('deflate', c, 'bare zlib', 'ops')), fmtRatio(rat('deflate', c, 'ours', 'ws')), fmtRatio(rat('deflate', c, 'ours', 'bare zlib'))]);
  out.push('### permessage-deflate round trip (compress + decompress one message, msgs/s)', '',
    mdTable(['message', 'ours', 'ws PerMessageDeflate', 'bare zlib streams', 'ours/ws', 'ours/zlib'], rows), '');
  sections.push(out.join('\n'));
}

// ---------------------------------------------------------------- end to end

interface Cell { size: number; text: boolean; conns: number; inflight: number; label: string; capped: boolean }

function cells(): Cell[] {
  const sizes: Array<[number, boolean]> = [[16, true], [1024, true], [65536, false], [1 << 20, false]];
  const shapes: Array<[number, number]> = quick ? [[1, 1], [64, 32]] : [[1, 1], [1, 32], [64, 1], [64, 32]];
  const out: Cell[] = [];
  for (const [size, text] of sizes) {
    for (const [conns, want] of shapes) {
      const inflight = Math.max(1, Math.min(want, Math.floor(MAX_INFLIGHT_BYTES / (conns * size))));
      out.push({ size, text, conns, inflight, capped: inflight < want,
        label: `${fmtBytes(size)}${text ? ' text' : ''}, ${conns}c x ${inflight}${inflight < want ? ` (of ${want})` : ''}` });
    }
  }
  return out;
}

type E2E = { msgsPerSec: number; mbPerSec: number; p50: number; p99: number; cpuPct: number; serverCpuPct: number; errors: number; firstError: string };
/** A failed run keeps its slot (runs stay aligned across servers for the paired ratios). */
const FAILED: E2E = { msgsPerSec: NaN, mbPerSec: NaN, p50: NaN, p99: NaN, cpuPct: NaN, serverCpuPct: NaN, errors: 1, firstError: 'failed' };

/** Median of a[i]/b[i] over runs both completed: each pair ran back to back, so drift cancels. */
function pairedRatio(a: number[], b: number[]): number {
  const rs: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i]) && b[i]) rs.push(a[i]! / b[i]!);
  return median(rs);
}

async function measureEcho(lg: Child, s: Server, c: Cell, extra: Record<string, unknown> = {}): Promise<E2E> {
  const before = await s.child.request('stats');
  const r = await lg.request('echo', {
    port: s.port, mode: s.def.kind === 'raw' ? 'raw' : 'ws', size: c.size, text: c.text, conns: c.conns,
    inflight: c.inflight, warmupMs: WARMUP_MS, durationMs: DURATION_MS, ...extra,
  }, 120_000);
  const after = await s.child.request('stats');
  // Server CPU over connect + warm-up + measurement + drain: shows which side saturates its core.
  const serverCpuPct = ((after.cpuUs - before.cpuUs) / 1e3 / Math.max(1, after.t - before.t)) * 100;
  if (r.errors) log(`  ${s.def.name} ${c.label}: ${r.errors} error(s): ${r.firstError}`);
  return { ...r, serverCpuPct };
}

async function e2e() {
  log('e2e: echo servers');
  const lg = startChild('loadgen.js', { cpu: CLIENT_CPU, fdLimit: FD_LIMIT });
  await lg.ready;
  const servers: Server[] = [];
  for (const d of SERVER_DEFS) {
    const s = await startServer(d);
    if (typeof s === 'string') { notes.push(`server ${d.name} did not start: ${s}`); log(`server ${d.name}: ${s}`); } else servers.push(s);
  }
  const res = new Map<string, E2E[]>();
  for (const c of cells()) {
    for (let r = 0; r < E2E_RUNS; r++) {
      // Rotate the order each run so drift on the shared machine hits every server alike.
      for (let k = 0; k < servers.length; k++) {
        const s = servers[(k + r) % servers.length]!;
        const key = `${c.label}|${s.def.name}`;
        try {
          const m = await measureEcho(lg, s, c);
          res.set(key, [...(res.get(key) ?? []), m]);
        } catch (e) {
          log(`  ${s.def.name} ${c.label}: ${(e as Error).message}`); notes.push(`${s.def.name} ${c.label}: ${(e as Error).message.split('\n')[0]}`);
          res.set(key, [...(res.get(key) ?? []), FAILED]);
        }
      }
    }
    log(`  ${c.label}: ` + servers.map((s) => `${s.def.name} ${fmtNum(median((res.get(`${c.label}|${s.def.name}`) ?? []).map((x) => x.msgsPerSec)))}`).join(', '));
  }
  for (const s of servers) await s.child.stop();
  await lg.stop();

  const names = servers.map((s) => s.def.name);
  const get = (c: Cell, n: string, f: keyof E2E) => (res.get(`${c.label}|${n}`) ?? []).map((x) => x[f] as number);
  const m = (c: Cell, n: string, f: keyof E2E) => median(get(c, n, f));
  const pr = (c: Cell, a: string, b: string, f: keyof E2E = 'msgsPerSec') => pairedRatio(get(c, a, f), get(c, b, f));
  const has = (n: string) => names.includes(n);
  const bu = has('ws+bufferutil') ? 'ws+bufferutil' : 'ws';
  const out: string[] = ['## End to end: echo servers', '',
    `One load generator (bench/loadgen.ts: raw net sockets, pre-built masked frames, every echoed byte compared) ` +
    `against each server in its own process. Servers that ran: ${names.join(', ')}. ` +
    `${E2E_RUNS} run(s) per cell, servers interleaved run by run (ratios: the median of the per-run ratios); ${WARMUP_MS} ms warm-up + ${DURATION_MS} ms measured per run. ` +
    `16 B and 1 KiB are text (UTF-8 validated), 64 KiB and 1 MiB binary. "Nc x M" = N connections, M messages in flight on each ` +
    `(total in flight capped at ${MAX_INFLIGHT_BYTES >> 20} MiB).`, ''];
  const rows = cells().map((c) => [c.label, ...names.map((n) => fmtMed(get(c, n, 'msgsPerSec'))),
    ...['ws', ...(bu !== 'ws' ? [bu] : []), ...(has('uWS.js') ? ['uWS.js'] : []), 'raw net'].filter(has).map((n) => fmtRatio(pr(c, 'ours', n)))]);
  const ratioHeads = ['ws', ...(bu !== 'ws' ? [bu] : []), ...(has('uWS.js') ? ['uWS.js'] : []), 'raw net'].filter(has).map((n) => `ours/${n}`);
  out.push('### Messages per second (median ±spread)', '', mdTable(['cell', ...names, ...ratioHeads], rows), '');
  const mbRows = cells().filter((c) => c.size >= 1024).map((c) => [c.label, ...names.map((n) => fmtNum(m(c, n, 'mbPerSec')))]);
  out.push('### Payload MB/s each way (median)', '', mdTable(['cell', ...names], mbRows), '');
  const latRows = cells().filter((c) => c.inflight === 1 || c.conns === 1).map((c) => [c.label, ...names.map((n) => `${m(c, n, 'p50').toFixed(3)} / ${m(c, n, 'p99').toFixed(3)}`)]);
  out.push('### Round trip p50 / p99 (ms, median over runs)', '', mdTable(['cell', ...names], latRows), '');
  const cpuRows = cells().map((c) => [c.label, ...names.map((n) => `${m(c, n, 'serverCpuPct').toFixed(0)} / ${m(c, n, 'cpuPct').toFixed(0)}`)]);
  out.push('### CPU % of one core: server / load generator', '',
    'A server near 100% is the bottleneck; the load generator must stay below that to be credible.', '', mdTable(['cell', ...names], cpuRows), '');
  sections.push(out.join('\n'));

  if (has('ours')) {
    const small = cells().filter((c) => c.size <= 1024 && c.conns === 64 && c.inflight === 32);
    const r = small.map((c) => pr(c, 'ours', 'ws'));
    target('Small messages (16 B, 1 KiB; 64c x 32) >= 3x ws msgs/s', r.map(fmtRatio).join(' / '), r.length ? r.every((x) => x >= 3) : null);
    if (has('uWS.js')) target('Small messages: match uWS.js (aim)', small.map((c) => fmtRatio(pr(c, 'ours', 'uWS.js'))).join(' / '), small.every((c) => pr(c, 'ours', 'uWS.js') >= 1));
    const large = cells().filter((c) => c.size >= 65536 && !(c.conns === 1 && c.inflight === 1));
    const rl = large.map((c) => pr(c, 'ours', bu, 'mbPerSec'));
    target(`Large messages (64 KiB, 1 MiB) bytes/s >= ${bu}`, large.map((c, i) => `${c.label}: ${fmtRatio(rl[i]!)}`).join('; '), rl.length ? rl.every((x) => x >= 1) : null);
    const lat = cells().filter((c) => c.inflight === 1 && c.conns === 1);
    const rlat = lat.map((c) => pr(c, 'ours', 'ws', 'p50'));
    target('Round trip p50 (1 in flight) <= ws', lat.map((c, i) => `${fmtBytes(c.size)}: ${fmtRatio(rlat[i]!)} of ws`).join('; '), rlat.length ? rlat.every((x) => x <= 1.0) : null);
  }
}

// ---------------------------------------------------------------- client role

async function clientRole() {
  log('client role');
  const def = HAVE_UWS ? SERVER_DEFS.find((d) => d.kind === 'uws')! : SERVER_DEFS.find((d) => d.name === (HAVE_BUFFERUTIL ? 'ws+bufferutil' : 'ws'))!;
  const srv = await startServer(def);
  if (typeof srv === 'string') { notes.push(`client role: server ${def.name} did not start: ${srv}`); return; }
  const impls: Array<{ name: string; impl: 'ours' | 'ws'; env: Record<string, string | undefined> }> = [
    { name: 'ours', impl: 'ours', env: {} },
    { name: 'ws', impl: 'ws', env: { WS_NO_BUFFER_UTIL: '1' } },
    ...(HAVE_BUFFERUTIL ? [{ name: 'ws+bufferutil', impl: 'ws' as const, env: { WS_NO_BUFFER_UTIL: undefined } }] : []),
  ];
  const children = new Map<string, Child>();
  for (const i of impls) { const c = startChild('client-role.js', { cpu: CLIENT_CPU, env: i.env, fdLimit: FD_LIMIT }); await c.ready; children.set(i.name, c); }
  const ccells: Cell[] = [];
  for (const size of [16, 1024, 65536, 1 << 20]) {
    for (const [conns, want] of quick ? [[1, 32]] : [[1, 32], [64, 32]]) {
      const inflight = Math.max(1, Math.min(want!, Math.floor(MAX_INFLIGHT_BYTES / (conns! * size))));
      ccells.push({ size, text: true, conns: conns!, inflight, capped: inflight < want!, label: `${fmtBytes(size)} text, ${conns}c x ${inflight}${inflight < want! ? ` (of ${want})` : ''}` });
    }
  }
  const res = new Map<string, number[]>(); const cpu = new Map<string, number[]>();
  for (const c of ccells) {
    for (let r = 0; r < RUNS; r++) {
      for (let k = 0; k < impls.length; k++) {
        const i = impls[(k + r) % impls.length]!;
        try {
          const x = await children.get(i.name)!.request('run', {
            url: `ws://127.0.0.1:${srv.port}/`, impl: i.impl, size: c.size, text: true, conns: c.conns, inflight: c.inflight,
            warmupMs: WARMUP_MS, durationMs: DURATION_MS,
          });
          if (x.errors) notes.push(`client ${i.name} ${c.label}: ${x.errors} errors (${x.firstError})`);
          res.set(`${c.label}|${i.name}`, [...(res.get(`${c.label}|${i.name}`) ?? []), x.msgsPerSec]);
          cpu.set(`${c.label}|${i.name}`, [...(cpu.get(`${c.label}|${i.name}`) ?? []), x.cpuPct]);
        } catch (e) {
          notes.push(`client ${i.name} ${c.label}: ${(e as Error).message.split('\n')[0]}`);
          res.set(`${c.label}|${i.name}`, [...(res.get(`${c.label}|${i.name}`) ?? []), NaN]);
          cpu.set(`${c.label}|${i.name}`, [...(cpu.get(`${c.label}|${i.name}`) ?? []), NaN]);
        }
      }
    }
    log(`  ${c.label}: ` + impls.map((i) => `${i.name} ${fmtNum(median(res.get(`${c.label}|${i.name}`) ?? []))}`).join(', '));
  }
  for (const c of children.values()) await c.stop();
  await srv.child.stop();
  const names = impls.map((i) => i.name);
  const g = (c: Cell, n: string) => res.get(`${c.label}|${n}`) ?? [];
  const rows = ccells.map((c) => [c.label, ...names.map((n) => fmtMed(g(c, n))),
    fmtRatio(pairedRatio(g(c, 'ours'), g(c, 'ws'))), ...(HAVE_BUFFERUTIL ? [fmtRatio(pairedRatio(g(c, 'ours'), g(c, 'ws+bufferutil')))] : []),
    names.map((n) => median(cpu.get(`${c.label}|${n}`) ?? []).toFixed(0)).join(' / ')]);
  sections.push(['## Client role', '',
    `Each client (in its own process on core ${CLIENT_CPU}) pipelines text messages through the same ${def.name} echo server ` +
    `(the fastest server available, so the client is the side measured) and checks every echo. Messages/s, median ±spread of ${RUNS} run(s).`, '',
    mdTable(['cell', ...names, 'ours/ws', ...(HAVE_BUFFERUTIL ? ['ours/ws+bu'] : []), `client CPU % (${names.join(' / ')})`], rows), ''].join('\n'));
  const rr = ccells.map((c) => pairedRatio(g(c, 'ours'), g(c, 'ws')));
  if (g(ccells[0]!, 'ours').length) target('Client role >= 1.5x ws client', rr.map(fmtRatio).join(' / '), rr.every((x) => x >= 1.5));
}

// ---------------------------------------------------------------- memory

async function idleMemory(defs: ServerDef[], count: number, deflate: boolean, runs: number, extensions?: string, exchange = false) {
  const lg = startChild('loadgen.js', { cpu: CLIENT_CPU, fdLimit: FD_LIMIT });
  await lg.ready;
  const res = new Map<string, { perConn: number[]; heapPerConn: number[]; rate: number[] }>();
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < defs.length; k++) {
      const d = defs[(k + r) % defs.length]!;
      const s = await startServer(d, deflate);
      if (typeof s === 'string') { notes.push(`memory: ${d.name} did not start: ${s}`); continue; }
      try {
        const mode = d.kind === 'raw' ? 'raw' : 'ws';
        // Warm the accept path so first-use allocations are not charged to the connections.
        await lg.request('idle', { port: s.port, count: 200, mode, extensions });
        await lg.request('idleClose');
        await sleep(300);
        const base = await s.child.request('stats', { gc: true });
        const o = await lg.request('idle', { port: s.port, count, mode, extensions, exchange }, 300_000);
        await sleep(500);
        const after = await s.child.request('stats', { gc: true });
        if (after.open < count && d.kind !== 'raw') notes.push(`memory: ${d.name} reports ${after.open} open of ${count}`);
        const e = res.get(d.name) ?? { perConn: [], heapPerConn: [], rate: [] };
        e.perConn.push((after.rss - base.rss) / count);
        e.heapPerConn.push((after.heapUsed + after.external - base.heapUsed - base.external) / count);
        e.rate.push(o.perSec);
        res.set(d.name, e);
        await lg.request('idleClose');
      } catch (e) { notes.push(`memory ${d.name}: ${(e as Error).message.split('\n')[0]}`); log(`memory ${d.name}: ${(e as Error).message}`); }
      await s.child.stop();
    }
  }
  await lg.stop();
  return res;
}

async function memory() {
  log(`memory: ${IDLE_CONNS} idle connections`);
  const defs = SERVER_DEFS.filter((d) => d.name !== 'ws+bufferutil');
  const res = await idleMemory(defs, IDLE_CONNS, false, RUNS);
  const ws = median(res.get('ws')?.perConn ?? []);
  const raw = median(res.get('raw net')?.perConn ?? []);
  const rows = [...res.entries()].map(([n, e]) => [n, fmtMed(e.perConn.map((x) => x / 1024), (x) => x.toFixed(2)), (median(e.heapPerConn) / 1024).toFixed(2),
    fmtRatio(median(e.perConn) / ws), fmtRatio(median(e.perConn) / raw), fmtNum(median(e.rate))]);
  sections.push(['## Idle memory per connection', '',
    `${IDLE_CONNS} idle connections opened by the load generator (after the handshake; raw net: plain TCP). Server RSS delta after GC ` +
    `divided by the connection count; fresh server process per run; ${RUNS} run(s). Server fd limit raised to ${FD_LIMIT} in its shell.`, '',
    mdTable(['server', 'KiB / connection (RSS)', 'KiB / conn (JS heap + external)', 'vs ws', 'vs raw net', 'handshakes/s while opening'], rows), ''].join('\n'));
  const o = median(res.get('ours')?.perConn ?? []);
  if (Number.isFinite(o)) target('Idle memory per connection <= 0.8x ws', `${(o / 1024).toFixed(2)} KiB vs ${(ws / 1024).toFixed(2)} KiB = ${fmtRatio(o / ws)}`, o / ws <= 0.8);
}

// ---------------------------------------------------------------- handshake rate (bench/handshake-rate.ts)

async function handshake() {
  sections.push(await handshakeCell({
    defs: SERVER_DEFS,
    start: async (name) => startServer(SERVER_DEFS.find((d) => d.name === name)!),
    loadgen: async () => { const lg = startChild('loadgen.js', { cpu: CLIENT_CPU, fdLimit: FD_LIMIT }); await lg.ready; return lg; },
    clientCpu: CLIENT_CPU, runs: E2E_RUNS, warmupMs: WARMUP_MS, durationMs: DURATION_MS, log, note: (s) => notes.push(s), target,
  }));
}

// ---------------------------------------------------------------- deflate

async function deflate() {
  log('permessage-deflate on');
  const defs = SERVER_DEFS.filter((d) => ['ours', 'ws', 'uWS.js'].includes(d.name));
  const lg = startChild('loadgen.js', { cpu: CLIENT_CPU, fdLimit: FD_LIMIT });
  await lg.ready;
  const servers: Server[] = [];
  for (const d of defs) { const s = await startServer(d, true); if (typeof s === 'string') notes.push(`deflate: ${d.name} did not start: ${s}`); else servers.push(s); }
  type DCell = Cell & { context: 'takeover' | 'none' };
  const dc = (size: number, conns: number, inflight: number, context: 'takeover' | 'none'): DCell =>
    ({ size, text: true, conns, inflight, capped: false, context, label: `${fmtBytes(size)} json, ${conns}c x ${inflight}${context === 'none' ? ', server_no_context_takeover' : ''}` });
  const dcells: DCell[] = quick
    ? [dc(1024, 64, 32, 'takeover'), dc(1024, 64, 32, 'none'), dc(65536, 1, 32, 'takeover')]
    : [dc(1024, 1, 32, 'takeover'), dc(1024, 64, 32, 'takeover'), dc(1024, 64, 32, 'none'), dc(65536, 1, 32, 'takeover'), dc(65536, 64, 4, 'takeover')];
  const res = new Map<string, E2E[]>();
  for (const c of dcells) {
    for (let r = 0; r < RUNS; r++) {
      for (let k = 0; k < servers.length; k++) {
        const s = servers[(k + r) % servers.length]!;
        try {
          const x = await measureEcho(lg, s, c, { deflate: true, payloadKind: 'json', context: c.context });
          res.set(`${c.label}|${s.def.name}`, [...(res.get(`${c.label}|${s.def.name}`) ?? []), x]);
        } catch (e) {
          notes.push(`deflate ${s.def.name} ${c.label}: ${(e as Error).message.split('\n')[0]}`);
          res.set(`${c.label}|${s.def.name}`, [...(res.get(`${c.label}|${s.def.name}`) ?? []), FAILED]);
        }
      }
    }
    log(`  ${c.label}: ` + servers.map((s) => `${s.def.name} ${fmtNum(median((res.get(`${c.label}|${s.def.name}`) ?? []).map((x) => x.msgsPerSec)))}`).join(', '));
  }
  for (const s of servers) await s.child.stop();
  await lg.stop();
  const names = servers.map((s) => s.def.name);
  const g = (c: Cell, n: string) => (res.get(`${c.label}|${n}`) ?? []).map((x) => x.msgsPerSec);
  const rows = dcells.map((c) => [c.label, ...names.map((n) => fmtMed(g(c, n))), fmtRatio(pairedRatio(g(c, 'ours'), g(c, 'ws'))),
    names.map((n) => median((res.get(`${c.label}|${n}`) ?? []).map((x) => x.serverCpuPct)).toFixed(0)).join(' / ')]);
  const memCount = quick ? 500 : 2000;
  const offer = 'permessage-deflate; client_max_window_bits';
  const mem = await idleMemory(defs, memCount, true, RUNS, offer);
  const mem1 = await idleMemory(defs, memCount, true, RUNS, offer, true);
  const wsm = median(mem.get('ws')?.perConn ?? []);
  const wsm1 = median(mem1.get('ws')?.perConn ?? []);
  const memRows = [...mem.entries()].map(([n, e]) => [n, fmtMed(e.perConn.map((x) => x / 1024), (x) => x.toFixed(2)), fmtRatio(median(e.perConn) / wsm),
    fmtMed((mem1.get(n)?.perConn ?? []).map((x) => x / 1024), (x) => x.toFixed(1)), fmtRatio(median(mem1.get(n)?.perConn ?? []) / wsm1)]);
  sections.push(['## permessage-deflate on', '',
    'Servers with compression on (threshold 1 KiB on all). The load generator offers `permessage-deflate; client_max_window_bits` ' +
    '(what browsers offer: contexts kept both ways; it inflates each connection\'s replies through one zlib stream) or, where the cell says so, ' +
    '`permessage-deflate; server_no_context_takeover`; it sends pre-compressed JSON-like text and inflates and compares every echo. Messages/s:', '',
    mdTable(['cell', ...names, 'ours/ws', `server CPU % (${names.join(' / ')})`], rows), '',
    `Memory per connection with the extension negotiated (${memCount} connections, offer \`${offer}\`): idle with no message ` +
    'exchanged, and after each connection echoed one compressed 4 KiB message (zlib contexts created):', '',
    mdTable(['server', 'KiB / conn, no message', 'vs ws', 'KiB / conn after one message', 'vs ws'], memRows), ''].join('\n'));
}

// ---------------------------------------------------------------- HTTP/2

/**
 * The same 64 WebSockets over one h2c session against 64 HTTP/1.1 connections: one server child of
 * ours (`http2: true`, cleartext, both on one port), one client child of ours (`http: '2'` or '1.1').
 * Each run measures both, alternating which goes first; ratios are h2/h1 per run, then the median.
 */
async function h2Section() {
  log('HTTP/2: 64 WebSockets on one h2c session vs 64 over HTTP/1.1');
  const cells = [
    { label: '16 B, 64 sockets x 32 in flight', size: 16, inflight: 32, unit: 'msgs' as const },
    { label: '1 KiB, 64 sockets x 32 in flight', size: 1024, inflight: 32, unit: 'msgs' as const },
    { label: '1 MiB, 64 sockets x 2 in flight', size: 1 << 20, inflight: 2, unit: 'bytes' as const },
  ];
  const res = new Map<string, number[]>();
  const push = (k: string, v: number) => res.set(k, [...(res.get(k) ?? []), v]);
  const server = startChild('h2-peer.js', { cpu: SERVER_CPU, fdLimit: FD_LIMIT, nodeArgs: ['--expose-gc'], args: ['server'] });
  const { port } = await server.ready;
  const IDLE = quick ? 500 : 1000;
  for (let r = 0; r < RUNS; r++) {
    const order: Array<'1.1' | '2'> = r % 2 === 0 ? ['2', '1.1'] : ['1.1', '2'];
    for (const http of order) {
      const client = startChild('h2-peer.js', { cpu: CLIENT_CPU, fdLimit: FD_LIMIT, args: ['client'] });
      await client.ready;
      await client.request('open', { port, http, n: 64 });
      for (const c of cells) {
        const x = await client.request('echo', { size: c.size, inflight: c.inflight, warmupMs: WARMUP_MS, ms: c.unit === 'bytes' ? 4 * DURATION_MS : DURATION_MS }, 120_000);
        push(`${c.label}|${http}`, c.unit === 'msgs' ? x.msgsPerSec : x.bytesPerSec / 1e6);
      }
      await client.request('closeAll');
      await sleep(300);
      const before = await server.request('mem');
      await client.request('open', { port, http, n: IDLE }, 300_000);
      await sleep(200);
      const after = await server.request('mem');
      push(`mem|${http}`, (after.rss - before.rss) / IDLE);
      push(`heap|${http}`, (after.heap - before.heap) / IDLE);
      await client.request('closeAll', {}, 300_000);
      await client.stop();
      await sleep(1500); // the client's pooled session closes 1 s after its last WebSocket
    }
  }
  await server.stop();
  const ratio = (k: string) => {
    const a = res.get(`${k}|2`) ?? []; const b = res.get(`${k}|1.1`) ?? [];
    return median(a.map((x, i) => x / b[i]!));
  };
  const rows = cells.map((c) => [c.label + (c.unit === 'bytes' ? ' (MB/s)' : ' (msgs/s)'), fmtMed(res.get(`${c.label}|2`) ?? []), fmtMed(res.get(`${c.label}|1.1`) ?? []), fmtRatio(ratio(c.label))]);
  rows.push([`idle memory per WebSocket, ${IDLE} open (KiB RSS)`, fmtMed((res.get('mem|2') ?? []).map((x) => x / 1024), (x) => x.toFixed(2)),
    fmtMed((res.get('mem|1.1') ?? []).map((x) => x / 1024), (x) => x.toFixed(2)), fmtRatio(ratio('mem'))]);
  rows.push([`idle memory per WebSocket (KiB JS heap + external)`, fmtMed((res.get('heap|2') ?? []).map((x) => x / 1024), (x) => x.toFixed(2)),
    fmtMed((res.get('heap|1.1') ?? []).map((x) => x / 1024), (x) => x.toFixed(2)), fmtRatio(ratio('heap'))]);
  for (const row of rows) log(`  ${row.join(' | ')}`);
  const env = describeEnv(commandLine(import.meta.url, argv));
  upsertSection(OUT, 'h2', ['## WebSockets over HTTP/2 (RFC 8441) vs HTTP/1.1', '', envLines(env), '',
    'Our server (`http2: true`, cleartext: h2c and HTTP/1.1 on one port) in one process, our client in another: the same 64 ' +
    'WebSockets opened with `http: \'2\'` (all on one pooled HTTP/2 session) or `http: \'1.1\'` (64 TCP connections). Binary echo, ' +
    `each echo answered by the next message; ${RUNS} run(s), the order of the two alternating; ratios are h2/h1 within a run, then the median. ` +
    `Idle memory: server RSS (and heap) delta after GC for ${IDLE} WebSockets opened after the load cells.`, '',
    mdTable(['cell', 'HTTP/2', 'HTTP/1.1', 'h2/h1'], rows), ''].join('\n'));
  log(`wrote section h2 of ${OUT}`);
}

// ---------------------------------------------------------------- messages as streams

/** One message of 1 GiB (quick: 128 MiB) piped back by a streaming server vs 16 MiB whole-message echo, beside a bare TCP echo (bench/streams.ts). */
async function streamsSection() {
  const size = quick ? 128 << 20 : 1 << 30;
  log(`streams: a ${fmtBytes(size)} message piped back by the server vs 16 MiB whole-message echo`);
  const runs: Awaited<ReturnType<typeof runStreams>>[] = [];
  for (let r = 0; r < RUNS; r++) runs.push(await runStreams(size, SERVER_CPU));
  const mib = (xs: number[]) => fmtMed(xs.map((x) => x / 2 ** 20), (x) => x.toFixed(1));
  const rows = [
    ['streamed: one message, piped back as it arrives', fmtMed(runs.map((x) => x.streamMBps)), mib(runs.map((x) => x.streamPeakRss)), mib(runs.map((x) => x.streamPeakRss - x.idleRss))],
    ['whole: 16 MiB messages, echoed', fmtMed(runs.map((x) => x.wholeMBps)), mib(runs.map((x) => x.wholePeakRss)), mib(runs.map((x) => x.wholePeakRss - x.idleRss))],
    ['raw net pipe: bare TCP echo (`s.pipe(s)`), no library', fmtMed(runs.map((x) => x.rawMBps)), mib(runs.map((x) => x.rawPeakRss)), mib(runs.map((x) => x.rawPeakRss - x.rawIdleRss))],
  ];
  for (const row of rows) log(`  ${row.join(' | ')}`);
  const peak = median(runs.map((x) => x.streamPeakRss));
  const floor = median(runs.map((x) => x.rawPeakRss));
  const env = describeEnv(commandLine(import.meta.url, argv));
  upsertSection(OUT, 'streams', ['## Messages as streams: a large message piped back', '', envLines(env), '',
    `${fmtBytes(size)} sent by our client (in another process) to our server child, which either pipes one streamed message ` +
    'back as it arrives (`streamMessages` + `sendStream()`) or echoes the same bytes as 16 MiB messages (two in flight). ' +
    `MB/s of the round trip; the server's peak RSS sampled every 5 ms (idle: ${mib(runs.map((x) => x.idleRss))} MiB). ` +
    'The floor: the same bytes in the same 1 MiB writes from this process through a bare Node TCP echo in the same kind of ' +
    `child, which does not import the library (idle: ${mib(runs.map((x) => x.rawIdleRss))} MiB). ` +
    `Streamed peak RSS goal: under 64 MiB: ${peak < 64 * 2 ** 20 ? 'met' : '**missed**'}; ` +
    `the floor Node itself reaches: ${(floor / 2 ** 20).toFixed(1)} MiB (${floor < 64 * 2 ** 20 ? 'under' : 'above'} the goal). ` +
    `${RUNS} run(s), medians.`, '',
    mdTable(['cell', 'MB/s', 'server peak RSS (MiB)', 'above idle (MiB)'], rows),
    '', `streamed / whole throughput: ${fmtRatio(median(runs.map((x) => x.streamMBps / x.wholeMBps)))}; ` +
    `streamed / raw net pipe throughput: ${fmtRatio(median(runs.map((x) => x.streamMBps / x.rawMBps)))}; ` +
    `streamed peak RSS above the floor: ${mib(runs.map((x) => x.streamPeakRss - x.rawPeakRss))} MiB`, ''].join('\n'));
  log(`wrote section streams of ${OUT}`);
}

// ---------------------------------------------------------------- main

async function main() {
  const env = describeEnv(commandLine(import.meta.url, argv));
  log(`${env.node}, ${env.cpu}, commit ${env.commit}; peers: ${SERVER_DEFS.map((d) => d.name).join(', ')}; out ${OUT}`);
  const storm = () => stormSection({ quick, out: OUT, argv, log, fdLimit: FD_LIMIT, serverCpu: SERVER_CPU, clientCpu: CLIENT_CPU });
  const web = () => webSection({
    quick, runs: RUNS, out: OUT, argv, scriptUrl: import.meta.url, serverKind: HAVE_UWS ? 'uws' : 'ours',
    serverCpu: SERVER_CPU, clientCpu: CLIENT_CPU, warmupMs: WARMUP_MS, durationMs: DURATION_MS, log,
  });
  const fanout = () => fanoutSection({ quick, runs: RUNS, out: OUT, argv, scriptUrl: import.meta.url, log });
  const fanoutCross = () => fanoutCrossSection({ quick, runs: RUNS, out: OUT, argv, scriptUrl: import.meta.url, log });
  const steps: Record<string, () => Promise<void>> = {
    micro, e2e, client: clientRole, handshake, memory, deflate, h2: h2Section, web, storm, fanout, 'fanout-cross': fanoutCross,
    streams: streamsSection,
  };
  for (const name of ONLY) {
    const f = steps[name];
    if (!f) { log(`unknown section ${name}`); continue; }
    try { await f(); } catch (e) { log(`${name} failed: ${(e as Error).stack}`); notes.push(`${name} failed: ${(e as Error).message}`); }
  }
  const head = [`## Suite run${quick ? ' (quick mode: fewer cells, 1 run, short windows)' : ''}`, '',
    envLines(env, [
      `Peers that ran: ${SERVER_DEFS.map((d) => d.name).join(', ')}${HAVE_UWS ? ' (uWS.js: native binary from @trufflesuite/uws-js-unofficial)' : ' (uWebSockets.js: no loadable build)'}` +
      `${HAVE_BUFFERUTIL ? '; bufferutil loads (prebuilt in its npm package)' : '; bufferutil not installed'}`,
      `Wall time: ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    ]), ''];
  if (targets.length) {
    head.push('### Targets (issue 5)', '', mdTable(['target', 'measured', 'verdict'],
      targets.map(([n, d, ok]) => [n, d, ok === null ? 'n/a' : ok ? 'met' : '**missed**'])), '');
  }
  if (notes.length) head.push('### Notes from this run', '', ...notes.map((n) => `- ${n}`), '');
  // The cells in OWN_SECTIONS write their own sections and leave the suite's main section alone.
  if (ONLY.some((n) => !OWN_SECTIONS.has(n))) {
    upsertSection(OUT, 'main', [...head, ...sections].join('\n'));
    log(`wrote ${OUT}`);
  }
}

const watchdog = setTimeout(() => { console.error('bench: 40 min limit reached, giving up'); process.exit(2); }, 40 * 60_000);
watchdog.unref();
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
