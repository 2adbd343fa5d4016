/**
 * The handshake-rate cell of the suite (`--only handshake`): new connections per second, each
 * connecting, completing the opening handshake, echoing one 16-byte text message and being reset,
 * `parallel` such loops at once in the one load generator (bench/loadgen.ts `handshakes`). The same
 * echo-server children as the end-to-end cells; raw net (connect + one TCP echo) is the ceiling of
 * the generator itself. Servers interleave run by run; ratios are the median of per-run ratios.
 */
import { type Child, fmtMed, fmtNum, fmtRatio, mdTable, median } from './util.js';

/** What the cell needs from the suite (bench/run.ts): its server children, settings and reporting. */
export interface HandshakeCellContext {
  /** Servers to measure, by name; the ones named ours, ws, uWS.js and raw net are used. */
  defs: Array<{ name: string; kind: string }>;
  start: (name: string) => Promise<{ child: Child; port: number } | string>;
  loadgen: () => Promise<Child>;
  runs: number;
  warmupMs: number;
  durationMs: number;
  log: (s: string) => void;
  note: (s: string) => void;
  target: (name: string, detail: string, met: boolean | null) => void;
}

/** Handshake loops in flight at once: enough to keep a server's accept queue non-empty. */
export const HANDSHAKE_PARALLEL = 32;

const PEERS = ['ours', 'ws', 'uWS.js', 'raw net'];

export async function handshakeCell(ctx: HandshakeCellContext): Promise<string> {
  ctx.log(`handshake rate: connect + upgrade + one 16 B echo + reset, ${HANDSHAKE_PARALLEL} at once`);
  const defs = ctx.defs.filter((d) => PEERS.includes(d.name));
  const lg = await ctx.loadgen();
  const servers: Array<{ name: string; kind: string; child: Child; port: number }> = [];
  for (const d of defs) {
    const s = await ctx.start(d.name);
    if (typeof s === 'string') ctx.note(`handshake: ${d.name} did not start: ${s}`); else servers.push({ ...d, ...s });
  }
  const rate = new Map<string, number[]>(); const srvCpu = new Map<string, number[]>(); const lgCpu = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, v: number) => m.set(k, [...(m.get(k) ?? []), v]);
  for (let r = 0; r < ctx.runs; r++) {
    for (let k = 0; k < servers.length; k++) {
      const s = servers[(k + r) % servers.length]!;
      try {
        const before = await s.child.request('stats');
        const x = await lg.request('handshakes', {
          port: s.port, parallel: HANDSHAKE_PARALLEL, warmupMs: ctx.warmupMs, durationMs: ctx.durationMs, mode: s.kind === 'raw' ? 'raw' : 'ws',
        }, 120_000);
        const after = await s.child.request('stats');
        if (x.errors) ctx.note(`handshake ${s.name}: ${x.errors} error(s): ${x.firstError}`);
        push(rate, s.name, x.errors ? NaN : x.perSec);
        push(lgCpu, s.name, x.cpuPct);
        push(srvCpu, s.name, ((after.cpuUs - before.cpuUs) / 1e3 / Math.max(1, after.t - before.t)) * 100);
      } catch (e) {
        ctx.note(`handshake ${s.name}: ${(e as Error).message.split('\n')[0]}`);
        push(rate, s.name, NaN);
      }
    }
  }
  for (const s of servers) await s.child.stop();
  await lg.stop();
  const get = (n: string) => rate.get(n) ?? [];
  const paired = (a: string, b: string) => {
    const x = get(a); const y = get(b); const rs: number[] = [];
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (Number.isFinite(x[i]) && Number.isFinite(y[i]) && y[i]) rs.push(x[i]! / y[i]!);
    return median(rs);
  };
  const names = servers.map((s) => s.name);
  const rows = names.map((n) => [n, fmtMed(get(n)), fmtRatio(paired(n, 'ws')), fmtRatio(paired(n, 'raw net')),
    `${fmtNum(median(srvCpu.get(n) ?? []))} / ${fmtNum(median(lgCpu.get(n) ?? []))}`]);
  const r = paired('ours', 'ws');
  if (names.includes('ours') && names.includes('ws')) ctx.target('Connect + handshake rate >= 1.5x ws', fmtRatio(r), Number.isFinite(r) ? r >= 1.5 : null);
  ctx.log(`  handshakes/s: ${names.map((n) => `${n} ${fmtNum(median(get(n)))}`).join(', ')}`);
  return ['## Connect + handshake rate', '',
    `New connections per second: ${HANDSHAKE_PARALLEL} loops in the load generator, each connects, sends the upgrade request, ` +
    'sends one masked 16 B text message after the 101, checks its echo byte for byte and resets the connection (RST: no TIME_WAIT), ' +
    `then starts over. ${ctx.runs} run(s), ${ctx.warmupMs} ms warm-up + ${ctx.durationMs} ms measured, servers interleaved run by run; ` +
    'ratios are the median of the per-run ratios. raw net (connect + one TCP echo, no upgrade) is what the generator itself can do.', '',
    mdTable(['server', 'connections/s', 'vs ws', 'vs raw net', 'CPU % server / load generator'], rows), ''].join('\n');
}
