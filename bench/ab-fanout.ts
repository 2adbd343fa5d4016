/**
 * Interleaved A/B of the fan-out cell (`--only fanout`): each server in a fresh process (core 0)
 * with the same subscribers and publisher (bench/fanout-peer.ts client, core 1), the servers in
 * turn, rotated round by round. Prints deliveries/s and server CPU µs per delivery per round, and
 * the medians. The cell's numbers move with the machine by ±15-30 % from run to run; interleaving
 * makes each round's servers see the same state.
 *
 *   node dist/bench/ab-fanout.js [--servers ours,raw,uws] [--build NAME=DIR ...] [--subs 10000]
 *                                [--sizes 16,1024] [--rounds 4] [--ms 2000] [--perf] [--perf-keep DIR] [--deflate]
 *                                [--node-arg FLAG ...]
 *
 * Servers are fanout-peer kinds (ours, uws, ws, raw). `--build NAME=DIR` adds our server from
 * another build (DIR is a `dist` directory, e.g. a copy built from another commit), to compare
 * two states of lib/ in one run. `--perf` samples each server for 3 s of its first size with
 * `perf record -e cpu-clock` (node run with `--perf-basic-prof`) and prints the share of the
 * kernel, V8-compiled JavaScript and Node's native code, and the top JavaScript functions;
 * `--perf-keep DIR` keeps each server's perf.data as DIR/NAME.data for `perf report`.
 * `--node-arg FLAG` passes a flag to node for every server (e.g. `--trace-gc`: the servers
 * print to this process's stdout). `--deflate` runs the compressed fan-out: servers with
 * permessage-deflate, subscribers offering `server_no_context_takeover`, JSON-like text
 * (default size 1024; raw has no compressed mode).
 */
import { execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { buildStarter, commandLine, fmtNum, mdTable, median, option, options, sleep, startChild } from './util.js';

const argv = process.argv.slice(2);
const SUBS = Number(option('subs', '10000'));
const DEFLATE = argv.includes('--deflate');
const SIZES = option('sizes', DEFLATE ? '1024' : '16,1024').split(',').map(Number);
const ROUNDS = Number(option('rounds', '4'));
const MS = Number(option('ms', '2000'));
const PERF_KEEP = option('perf-keep', '');
/** Extra node flags for every server (`--node-arg --trace-gc`). */
const NODE_ARGS = options('node-arg');
const PERF = argv.includes('--perf') || PERF_KEEP !== '';
const FD_LIMIT = 65536;
/** JIT symbols for perf; V8 then also writes a log, kept out of the working directory. */
const PERF_NODE_ARGS = ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=/tmp/rfcws-ab-fanout-v8-${process.pid}.log`];

interface Server { name: string; kind: string; startChild: typeof startChild; rate: Map<number, number[]>; cpu: Map<number, number[]>; perf: string[] }

async function servers(): Promise<Server[]> {
  const list: Server[] = option('servers', 'ours,raw').split(',').filter(Boolean).map((kind) => ({ name: kind, kind, startChild, rate: new Map(), cpu: new Map(), perf: [] }));
  for (const { name, start } of await Promise.all(options('build').map(buildStarter))) {
    list.push({ name, kind: 'ours', startChild: start, rate: new Map(), cpu: new Map(), perf: [] });
  }
  return list;
}

/** `perf record` of `pid` for `seconds`; the DSO split and the top JavaScript functions. */
async function perfSample(pid: number, seconds: number, name: string): Promise<string> {
  const out = PERF_KEEP !== '' ? `${PERF_KEEP}/${name}.data` : `/tmp/rfcws-ab-fanout-${pid}.data`;
  const rec = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '2000', '-o', out, '-p', String(pid)], { stdio: 'ignore' });
  await sleep(seconds * 1000);
  rec.kill('SIGINT');
  await new Promise((r) => rec.on('close', r));
  const report = (sort: string): string[] => execFileSync('perf', ['report', '-i', out, '--sort', sort, '--stdio'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const dso = report('dso').slice(0, 4).map((l) => l.trim().replace(/\s+/g, ' ').replace(/\[JIT\] tid \d+/, 'JIT')).join(', ');
  const js = report('sym').filter((l) => l.includes('JS:')).slice(0, 4).map((l) => l.trim().replace(/\s+/g, ' ').replace(/ file:\/\/\S*\/(lib|bench)\//, ' $1/')).join('; ');
  if (PERF_KEEP === '') rmSync(out, { force: true });
  return `${dso} | ${js}`;
}

async function main(): Promise<void> {
  const list = await servers();
  if (PERF) {
    try { execFileSync('perf', ['--version'], { stdio: 'ignore' }); } catch { throw new Error('--perf needs perf (Debian: linux-perf)'); }
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < list.length; k++) {
      const s = list[(k + r) % list.length]!;
      const server = s.startChild('fanout-peer.js', { cpu: 0, fdLimit: FD_LIMIT, args: ['server', s.kind, ...(DEFLATE ? ['deflate'] : [])], nodeArgs: [...NODE_ARGS, ...(PERF && r === 0 ? PERF_NODE_ARGS : [])] });
      const client = startChild('fanout-peer.js', { cpu: 1, fdLimit: FD_LIMIT, args: ['client'] });
      try {
        const { port } = await server.ready;
        await client.ready;
        await client.request('open', { port, n: SUBS, deflate: DEFLATE }, 300_000);
        for (const size of SIZES) {
          const before = await server.request('stats');
          const run = client.request('run', { size, window: 16, warmupMs: 500, durationMs: MS }, 120_000);
          if (PERF && r === 0 && size === SIZES[0]) {
            await sleep(500);
            s.perf.push(await perfSample(server.cp.pid!, Math.min(3, MS / 1000), s.name));
          }
          const x = await run;
          const after = await server.request('stats');
          if (x.stalled || x.lost > 0) console.error(`${s.name} ${size} B round ${r + 1}: ${x.stalled ? 'stalled, ' : ''}${x.lost} deliveries missing`);
          s.rate.set(size, [...(s.rate.get(size) ?? []), x.deliveriesPerSec]);
          s.cpu.set(size, [...(s.cpu.get(size) ?? []), (after.cpuUs - before.cpuUs) / Math.max(1, x.delivered)]);
        }
      } finally {
        await client.stop();
        await server.stop();
      }
    }
  }
  console.log(`\`${commandLine(import.meta.url, argv)}\`: ${SUBS} subscribers, 16 in flight, ${ROUNDS} interleaved rounds of ${MS} ms (500 ms warm-up)${DEFLATE ? ', compressed (server_no_context_takeover, JSON-like text)' : ''}\n`);
  for (const size of SIZES) {
    const base = median(list[0]!.rate.get(size)!);
    console.log(`${size} B ${DEFLATE ? 'JSON-like text, compressed' : 'text'}\n`);
    console.log(mdTable(['server', 'deliveries/s per round', 'median', `vs ${list[0]!.name}`, 'server CPU µs/delivery per round', 'median'], list.map((s) => [
      s.name, s.rate.get(size)!.map((x) => fmtNum(x)).join(', '), fmtNum(median(s.rate.get(size)!)), `${(median(s.rate.get(size)!) / base).toFixed(2)}x`,
      s.cpu.get(size)!.map((x) => x.toFixed(3)).join(', '), median(s.cpu.get(size)!).toFixed(3),
    ])));
    console.log('');
  }
  if (PERF) {
    rmSync(`/tmp/rfcws-ab-fanout-v8-${process.pid}.log`, { force: true });
    console.log(`perf record -e cpu-clock of each server, 3 s of ${SIZES[0]} B in round 1: share of samples (DSO) | top JavaScript functions\n`);
    for (const s of list) console.log(`- ${s.name}: ${s.perf.join(' ')}`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
