/**
 * The handshake-rate cell of the suite (`--only handshake`): new connections per second, each
 * connecting, completing the opening handshake, echoing one 16-byte text message and being reset,
 * `parallel` such loops at once in one load generator: the native one (bench/loadgen-handshake.c,
 * through bench/handshake-native.ts) when `cc` builds it, else bench/loadgen.ts `handshakes`. The same
 * echo-server children as the end-to-end cells; raw net (connect + one TCP echo) bounds a Node server
 * (and the Node generator). With the native generator, raw net is also measured with the Node one in
 * the same runs, and each generator's CPU time per connection shows its own ceiling. Servers interleave run by run; ratios are the median of per-run ratios.
 */
import { buildNativeGenerator, type HandshakeArgs, type HandshakeRun } from './handshake-native.js';
import { type Child, fmtMed, fmtNum, fmtRatio, mdTable, median } from './util.js';

/** What the cell needs from the suite (bench/run.ts): its server children, settings and reporting. */
export interface HandshakeCellContext {
  /** Servers to measure, by name; the ones named ours, ws, uWS.js and raw net are used. */
  defs: Array<{ name: string; kind: string }>;
  start: (name: string) => Promise<{ child: Child; port: number } | string>;
  loadgen: () => Promise<Child>;
  /** Core the native generator is pinned to (the Node one's, through `loadgen`). */
  clientCpu?: number;
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
  const native = buildNativeGenerator(ctx.clientCpu);
  const lg = await ctx.loadgen();
  const viaNode = (a: HandshakeArgs) => lg.request<HandshakeRun>('handshakes', a, 120_000);
  const run = typeof native === 'string' ? viaNode : native.handshakes;
  ctx.log(typeof native === 'string' ? `  Node load generator (native one not used: ${native})` : '  native load generator (bench/loadgen-handshake.c)');
  const servers: Array<{ name: string; kind: string; child: Child; port: number }> = [];
  for (const d of defs) {
    const s = await ctx.start(d.name);
    if (typeof s === 'string') ctx.note(`handshake: ${d.name} did not start: ${s}`); else servers.push({ ...d, ...s });
  }
  // What each run measures: every server with the cell's generator, and raw net with the Node one too.
  const NODE_RAW = 'raw net (Node generator)';
  const cells = servers.map((s) => ({ key: s.name, server: s, gen: run }));
  const raw = servers.find((s) => s.kind === 'raw');
  if (typeof native !== 'string' && raw) cells.push({ key: NODE_RAW, server: raw, gen: viaNode });
  const rate = new Map<string, number[]>(); const srvCpu = new Map<string, number[]>(); const lgCpu = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, v: number) => m.set(k, [...(m.get(k) ?? []), v]);
  for (let r = 0; r < ctx.runs; r++) {
    for (let k = 0; k < cells.length; k++) {
      const { key, server: s, gen } = cells[(k + r) % cells.length]!;
      try {
        const before = await s.child.request('stats');
        const x = await gen({ port: s.port, parallel: HANDSHAKE_PARALLEL, warmupMs: ctx.warmupMs, durationMs: ctx.durationMs, mode: s.kind === 'raw' ? 'raw' : 'ws' });
        const after = await s.child.request('stats');
        if (x.errors) ctx.note(`handshake ${key}: ${x.errors} error(s): ${x.firstError}`);
        push(rate, key, x.errors ? NaN : x.perSec);
        push(lgCpu, key, x.cpuPct);
        push(srvCpu, key, ((after.cpuUs - before.cpuUs) / 1e3 / Math.max(1, after.t - before.t)) * 100);
      } catch (e) {
        ctx.note(`handshake ${key}: ${(e as Error).message.split('\n')[0]}`);
        push(rate, key, NaN);
      }
    }
  }
  for (const s of servers) await s.child.stop();
  await lg.stop();
  if (typeof native !== 'string') native.dispose();
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
  const generator = typeof native === 'string'
    ? `Load generator: the Node one (bench/loadgen.ts \`handshakes\`); the native one was not used: ${native}.`
    : 'Load generator: bench/loadgen-handshake.c (C, epoll, non-blocking sockets, compiled with the system `cc` when the cell starts), ' +
      'same bytes and checks as the Node one (bench/frames.ts), the Sec-WebSocket-Accept verified too.';
  // A generator's CPU time per connection bounds its rate on one core, whatever the load on the machine.
  const usPerConn = (k: string) => {
    const r = get(k); const c = lgCpu.get(k) ?? []; const xs: number[] = [];
    for (let i = 0; i < r.length; i++) if (Number.isFinite(r[i]) && r[i]! > 0 && Number.isFinite(c[i])) xs.push((c[i]! / 100 / r[i]!) * 1e6);
    return median(xs);
  };
  const cost = (k: string) => `${fmtNum(median(get(k)))}/s, ${fmtNum(usPerConn(k))} µs of generator CPU per connection (at most ~${fmtNum(1e6 / usPerConn(k))}/s on one core)`;
  const ceiling = typeof native === 'string' || !raw ? [] : [
    `Generator ceilings, raw net in the same runs: native generator ${cost(raw.name)}; Node generator ${cost(NODE_RAW)}; ` +
    `Node / native rate ${fmtRatio(paired(NODE_RAW, raw.name))}.`, ''];
  return ['## Connect + handshake rate', '',
    `New connections per second: ${HANDSHAKE_PARALLEL} loops in the load generator, each connects, sends the upgrade request, ` +
    'sends one masked 16 B text message after the 101, checks its echo byte for byte and resets the connection (RST: no TIME_WAIT), ' +
    `then starts over. ${ctx.runs} run(s), ${ctx.warmupMs} ms warm-up + ${ctx.durationMs} ms measured, servers interleaved run by run; ` +
    'ratios are the median of the per-run ratios. raw net (a Node `net` server: connect + one TCP echo, no upgrade) bounds what a Node ' +
    'server can accept, and with the Node generator what that generator can do. ' +
    `${generator} It runs pinned to the client core.`, '',
    mdTable(['server', 'connections/s', 'vs ws', 'vs raw net', 'CPU % server / load generator'], rows), '', ...ceiling].join('\n');
}
