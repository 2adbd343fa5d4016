/**
 * Interleaved A/B of one echo cell: every server in its own process (core 0), one load generator
 * (core 1), the servers measured in turn, `--pairs` rounds. Prints each server's messages/s and its
 * CPU time per message (process.cpuUsage through the echo server's `stats` request) per round, and the
 * medians. For a cell whose suite-run ratio is in doubt: both servers see the same machine state.
 *
 *   node dist/bench/ab-echo.js [--servers ours,ws+bufferutil] [--size 1048576] [--binary]
 *                              [--conns 1] [--inflight 32] [--pairs 5] [--ms 1500]
 *                              [--deflate takeover|none] [--build NAME=DIR ...]
 *
 * `--deflate` runs the servers with permessage-deflate on and the load generator as in the suite's
 * deflate cells (JSON-like text, every echo inflated and compared); `none` offers
 * `server_no_context_takeover`. `--build NAME=DIR` adds our echo server from another build (DIR is
 * a `dist` directory, e.g. one built from another commit), to compare two states of lib/ in one run.
 */
import { buildStarter, commandLine, echoServerPeer, fmtNum, mdTable, median, option, options, startChild, type Child } from './util.js';

const argv = process.argv.slice(2);
const SERVERS = option('servers', 'ours,ws+bufferutil').split(',');
const SIZE = Number(option('size', String(1 << 20)));
const TEXT = !argv.includes('--binary') && SIZE <= 1024;
const CONNS = Number(option('conns', '1'));
const INFLIGHT = Number(option('inflight', '32'));
const PAIRS = Number(option('pairs', '5'));
const MS = Number(option('ms', '1500'));
const DEFLATE = option('deflate', '');
if (DEFLATE !== '' && DEFLATE !== 'takeover' && DEFLATE !== 'none') throw new Error('--deflate is takeover or none');
const BUILDS = options('build');

async function main(): Promise<void> {
  const servers: { name: string; child: Child; port: number; rate: number[]; cpu: number[] }[] = [];
  const list = [...SERVERS.map((name) => ({ name, start: startChild })), ...(await Promise.all(BUILDS.map(buildStarter)))];
  for (const { name, start } of list) {
    const { kind, env } = echoServerPeer(start === startChild ? name : 'ours');
    const child = start('echo-server.js', { cpu: 0, args: [kind, ...(DEFLATE ? ['deflate'] : [])], env });
    const ready = await child.ready;
    if (ready.error) throw new Error(`${name}: ${ready.error}`);
    servers.push({ name, child, port: ready.port, rate: [], cpu: [] });
  }
  const lg = startChild('loadgen.js', { cpu: 1 });
  await lg.ready;
  for (let i = 0; i < PAIRS; i++) {
    for (const s of servers) {
      const before = await s.child.request('stats', {});
      const r = await lg.request('echo', {
        port: s.port, mode: s.name === 'raw' ? 'raw' : 'ws', size: SIZE, text: TEXT, conns: CONNS, inflight: INFLIGHT, warmupMs: 300, durationMs: MS,
        ...(DEFLATE ? { deflate: true, payloadKind: 'json', context: DEFLATE } : {}),
      }, MS + 60_000);
      const after = await s.child.request('stats', {});
      if (r.errors) console.error(`${s.name} round ${i + 1}: ${r.errors} error(s): ${r.firstError}`);
      const seconds = (after.t - before.t) / 1000;
      s.rate.push(r.msgsPerSec);
      s.cpu.push((after.cpuUs - before.cpuUs) / (r.msgsPerSec * seconds));
    }
  }
  await lg.stop();
  for (const s of servers) await s.child.stop();
  const base = median(servers[0]!.rate);
  const ext = DEFLATE === '' ? '' : DEFLATE === 'none' ? ', permessage-deflate (server_no_context_takeover)' : ', permessage-deflate';
  console.log(`\`${commandLine(import.meta.url, argv)}\`: ${SIZE} B ${TEXT ? 'text' : 'binary'}${ext}, ${CONNS}c x ${INFLIGHT}, ${PAIRS} interleaved rounds of ${MS} ms\n`);
  console.log(mdTable(['server', 'msgs/s per round', 'median msgs/s', `vs ${servers[0]!.name}`, 'server CPU µs/msg (median)'], servers.map((s) => [
    s.name, s.rate.map((x) => fmtNum(x)).join(', '), fmtNum(median(s.rate)), `${(median(s.rate) / base).toFixed(2)}x`, median(s.cpu) < 10 ? median(s.cpu).toFixed(2) : median(s.cpu).toFixed(0),
  ])));
}

main().catch((e) => { console.error(e); process.exit(1); });
