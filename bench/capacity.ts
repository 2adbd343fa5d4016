/**
 * Connection-capacity run (not part of npm test): open as many idle WebSocket connections as the
 * machine allows (fd limits raised in the spawning shells; the server listens on one port per
 * 5,000 connections so the client's ephemeral ports neither run out nor get slow to find), then report server memory per connection and the handshake
 * rate. Stops at --max, at the first failure, or at --time seconds. Writes the `capacity` section
 * of bench/RESULTS.md (one subsection per server).
 *
 *   node dist/bench/capacity.js [--server ours,ws] [--max 100000] [--time 120] [--print]
 */
import { execFileSync } from 'node:child_process';
import { commandLine, describeEnv, echoServerPeer, fmtNum, mdTable, option, sleep, startChild } from './util.js';
import { envLines, RESULTS_FILE, upsertSection } from './results.js';

const argv = process.argv.slice(2);
const SERVERS = option('server', 'ours,ws').split(',');
const WANT = Number(option('max', '100000'));
/** The most a shell here may set: root raises the hard limit where allowed (EPERM in some sandboxes). */
const HARD = (() => {
  try {
    return Number(execFileSync('bash', ['-c', `ulimit -Hn ${WANT + 2000} 2>/dev/null; ulimit -Hn`]).toString().trim()) || 1024;
  } catch { return 1024; }
})();
/** Every connection costs the server one fd; keep some for the listeners, pipes and stdio. */
const MAX = Math.min(WANT, HARD - 100);
const TIME_S = Math.min(900, Number(option('time', '120')));
const PRINT = argv.includes('--print');
const FD = Math.min(MAX + 2000, HARD);

async function one(name: string) {
  const { kind, env } = echoServerPeer(name);
  const server = startChild('echo-server.js', {
    cpu: 0, fdLimit: FD, nodeArgs: ['--expose-gc', '--max-old-space-size=8192'], args: [kind, `listeners=${Math.ceil(MAX / 5000)}`],
    env,
  });
  const ready = await server.ready;
  if (ready.error) throw new Error(`server ${name}: ${ready.error}`);
  const lg = startChild('loadgen.js', { cpu: 1, fdLimit: FD, nodeArgs: ['--max-old-space-size=8192'] });
  await lg.ready;
  const base = await server.request('stats', { gc: true });
  console.log(`capacity ${name}: filling up to ${MAX} connections for at most ${TIME_S} s`);
  const r = await lg.request('fill', { ports: ready.ports, max: MAX, timeLimitMs: TIME_S * 1000, parallel: 128, mode: kind === 'raw' ? 'raw' : 'ws' }, TIME_S * 1000 + 120_000);
  await sleep(1000);
  const after = await server.request('stats', { gc: true });
  await lg.request('idleClose', {}, 120_000);
  await lg.stop();
  await server.stop();
  const per = (after.rss - base.rss) / r.opened;
  console.log(`  ${name}: ${r.opened} connections (${r.stoppedBy}), ${(per / 1024).toFixed(2)} KiB/conn RSS, ${fmtNum(r.perSec)} handshakes/s`);
  return { name, ...r, serverOpen: after.open, rssBase: base.rss, rssAfter: after.rss, per, heapPer: (after.heapUsed + after.external - base.heapUsed - base.external) / r.opened };
}

async function main() {
  const env = describeEnv(commandLine(import.meta.url, argv));
  const rows: string[][] = [];
  for (const s of SERVERS) {
    try {
      const x = await one(s);
      rows.push([x.name, fmtNum(x.opened), String(x.serverOpen), x.stoppedBy, `${(x.rssAfter / 1048576).toFixed(0)} MiB`,
        (x.per / 1024).toFixed(2), (x.heapPer / 1024).toFixed(2), fmtNum(x.perSec)]);
    } catch (e) { rows.push([s, 'failed', '', (e as Error).message.split('\n')[0]!, '', '', '', '']); }
  }
  const md = ['## Connection capacity', '',
    envLines(env, [`Hard fd limit a shell can set here: ${HARD}${MAX < WANT ? ` (asked for ${WANT} connections: capped to ${MAX}, one fd per server-side connection)` : ''}`,
      `Up to ${MAX} idle connections per server within ${TIME_S} s; server and load generator fd limits raised to ${FD} ` +
      '(ulimit -Hn/-n in their shells, as root); the server listens on one port per 5,000 connections (the client kernel\'s ephemeral-port search slows as one destination fills up); 128 handshakes in parallel']), '',
    mdTable(['server', 'connections opened', 'open on server', 'stopped by', 'server RSS', 'KiB / conn (RSS delta)', 'KiB / conn (heap + external)', 'handshakes/s'], rows), ''].join('\n');
  if (PRINT) console.log(md); else { upsertSection(RESULTS_FILE, 'capacity', md); console.log(`wrote the capacity section of ${RESULTS_FILE}`); }
}

const watchdog = setTimeout(() => { console.error('capacity: time limit reached'); process.exit(2); }, (TIME_S + 300) * 1000 * SERVERS.length);
watchdog.unref();
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
