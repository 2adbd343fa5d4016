/**
 * The fan-out cell (`--only fanout`) with the servers side by side in ONE process (core 0), each
 * on its own port with its own subscribers and publisher (one bench/fanout-peer.ts client process
 * per server, all on core 1). The runs take turns in short phases, rotated round by round, and
 * only one server is loaded at a time (the others' sockets sit idle), so each phase's server CPU
 * is that server's. Separate processes (bench/ab-fanout.ts) differ by ±10-15 % in the same code
 * from process to process (heap layout, when each was started); here every server shares the
 * process, its heap and its moment, and the per-round ratios are paired.
 *
 *   node dist/bench/ab-fanout-cohost.js [--servers ours,uws,raw] [--build NAME=DIR ...] [--subs 10000]
 *                                       [--sizes 16,1024] [--rounds 10] [--ms 1500] [--warmup 300] [--deflate]
 *
 * `--build NAME=DIR` adds ours from another build (DIR is a `dist` directory, e.g. built from
 * another commit) to the same process, to compare two states of lib/ side by side.
 *
 * Prints, per size, each server's deliveries/s and server CPU µs per delivery (medians over the
 * rounds), and against the first server the median of the per-round ratios with their range.
 * The default subscribers per server is 10,000, or fewer when the hard fd limit cannot hold
 * them all in one process (`ulimit -Hn` 20000 and three servers: 6,500 each).
 * raw's module state allows one raw server per process; a server kind appears once.
 */
import { execFileSync } from 'node:child_process';
import { commandLine, fmtNum, mdTable, median, option, options, startChild, type Child } from './util.js';

const argv = process.argv.slice(2);
const DEFLATE = argv.includes('--deflate');
/** Server kinds (raw net has no compressed mode), then `--build NAME=DIR` (ours from another build) as NAME=DIR. */
const KINDS = [...option('servers', DEFLATE ? 'ours,uws' : 'ours,uws,raw').split(',').filter(Boolean), ...options('build')];
/** The one server process holds every server's sockets: the hard fd limit caps the subscribers each. */
const HARD_FDS = Number(execFileSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim()) || 65536;
const SUBS = Number(option('subs', String(Math.min(10_000, Math.floor((HARD_FDS - 500) / KINDS.length / 100) * 100))));
const SIZES = option('sizes', DEFLATE ? '1024' : '16,1024').split(',').map(Number);
const ROUNDS = Number(option('rounds', '10'));
const MS = Number(option('ms', '1500'));
const WARMUP = Number(option('warmup', '300'));
const FD_LIMIT = 65536;

interface Row { name: string; client: Child; rate: Map<number, number[]>; cpu: Map<number, number[]> }

/**
 * The median and range of the per-round ratios xs/ys. A run that lost deliveries or stalled is
 * NaN, so its round has no ratio (and `median` leaves it out of a server's own median too).
 */
const ratioCell = (xs: number[], ys: number[]): string => {
  const r = xs.map((x, i) => x / ys[i]!).filter(Number.isFinite).sort((a, b) => a - b);
  if (r.length === 0) return 'no valid round';
  return `${median(r).toFixed(3)}x (${r[0]!.toFixed(2)}-${r[r.length - 1]!.toFixed(2)}; ${r.length} rounds)`;
};

async function main(): Promise<void> {
  if (new Set(KINDS).size !== KINDS.length) throw new Error('--servers: each kind once');
  if (SUBS * KINDS.length + 500 > HARD_FDS) throw new Error(`--subs ${SUBS} x ${KINDS.length} servers do not fit the hard fd limit (${HARD_FDS})`);
  const server = startChild('fanout-peer.js', { cpu: 0, fdLimit: FD_LIMIT, args: ['cohost', KINDS.join(','), ...(DEFLATE ? ['deflate'] : [])] });
  const rows: Row[] = KINDS.map((kind) => ({ name: kind.split('=')[0]!, client: startChild('fanout-peer.js', { cpu: 1, fdLimit: FD_LIMIT, args: ['client'] }), rate: new Map(), cpu: new Map() }));
  try {
    const { ports } = (await server.ready) as { ports: Record<string, number> };
    for (const row of rows) {
      await row.client.ready;
      await row.client.request('open', { port: ports[row.name], n: SUBS, deflate: DEFLATE }, 300_000);
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const size of SIZES) {
        for (let k = 0; k < rows.length; k++) {
          const row = rows[(k + r) % rows.length]!;
          const before = await server.request('stats');
          const x = await row.client.request('run', { size, window: 16, warmupMs: WARMUP, durationMs: MS }, 120_000);
          const after = await server.request('stats');
          const bad = x.stalled || x.lost > 0;
          if (bad) console.error(`${row.name} ${size} B round ${r + 1}: ${x.stalled ? 'stalled, ' : ''}${x.lost} deliveries missing (round left out)`);
          row.rate.set(size, [...(row.rate.get(size) ?? []), bad ? NaN : x.deliveriesPerSec]);
          row.cpu.set(size, [...(row.cpu.get(size) ?? []), bad ? NaN : (after.cpuUs - before.cpuUs) / Math.max(1, x.delivered)]);
        }
      }
    }
  } finally {
    await Promise.all(rows.map((row) => row.client.stop()));
    await server.stop();
  }
  const base = rows[0]!;
  console.log(`\`${commandLine(import.meta.url, argv)}\`: ${rows.map((row) => row.name).join(', ')} in one server process, ${SUBS} subscribers each (hard fd limit ${HARD_FDS}), 16 in flight, ${ROUNDS} rounds of ${MS} ms (${WARMUP} ms warm-up) per server and size${DEFLATE ? ', compressed (server_no_context_takeover, JSON-like text)' : ''}\n`);
  for (const size of SIZES) {
    console.log(`${size} B ${DEFLATE ? 'JSON-like text, compressed' : 'text'}\n`);
    console.log(mdTable(
      ['server', 'deliveries/s (median)', `deliveries/s, ${base.name}/server per round: median (range)`, 'server CPU µs/delivery (median)', `CPU per delivery, server/${base.name} per round: median (range)`],
      rows.map((row) => [
        row.name, fmtNum(median(row.rate.get(size)!)), row === base ? '—' : ratioCell(base.rate.get(size)!, row.rate.get(size)!),
        median(row.cpu.get(size)!).toFixed(3), row === base ? '—' : ratioCell(row.cpu.get(size)!, base.cpu.get(size)!),
      ])));
    console.log('');
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
