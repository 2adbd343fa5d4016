/**
 * Profile a server under one load cell: the echo server runs with `node --cpu-prof`, the load
 * generator drives the cell, then the profile's self time is summed per function and printed as
 * markdown (top N), the `.cpuprofile` kept for a closer look (Chrome DevTools / speedscope).
 *
 *   node dist/bench/profile.js [--server ours] [--size 16] [--text] [--conns 64] [--inflight 32]
 *                              [--deflate] [--handshakes N] [--seconds 5] [--top 25] [--dir /tmp/rfcws-prof] [--write]
 * --write puts the table in the `profile` section of bench/RESULTS.md (replacing it).
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandLine, echoServerPeer, fmtNum, mdTable, option, startChild } from './util.js';
import { RESULTS_FILE, upsertSection } from './results.js';

const argv = process.argv.slice(2);
const SERVER = option('server', 'ours');
const SIZE = Number(option('size', '16'));
const TEXT = argv.includes('--text');
const CONNS = Number(option('conns', '64'));
const INFLIGHT = Number(option('inflight', '32'));
const SECONDS = Math.min(60, Number(option('seconds', '5')));
const TOP = Number(option('top', '25'));
const DIR = option('dir', '/tmp/rfcws-prof');
const DEFLATE = argv.includes('--deflate');
/** Profile the opening handshake instead: open and reset this many connections, three times. */
const HANDSHAKES = Number(option('handshakes', '0'));

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }

async function main() {
  const dir = join(DIR, `${SERVER}-${SIZE}-${CONNS}x${INFLIGHT}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const { kind, env } = echoServerPeer(SERVER);
  const server = startChild('echo-server.js', {
    cpu: 0, args: [kind, ...(DEFLATE ? ['deflate'] : [])], nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    env,
  });
  const ready = await server.ready;
  if (ready.error) throw new Error(ready.error);
  const lg = startChild('loadgen.js', { cpu: 1 });
  await lg.ready;
  let r: { msgsPerSec: number };
  if (HANDSHAKES > 0) {
    let rate = 0;
    for (let i = 0; i < 3; i++) {
      const o = await lg.request('idle', { port: ready.port, count: HANDSHAKES }, 300_000);
      await lg.request('idleClose');
      rate = Math.max(rate, o.perSec);
    }
    r = { msgsPerSec: rate };
  } else r = await lg.request('echo', {
    port: ready.port, mode: kind === 'raw' ? 'raw' : 'ws', size: SIZE, text: TEXT, conns: CONNS, inflight: INFLIGHT,
    warmupMs: 500, durationMs: SECONDS * 1000, ...(DEFLATE ? { deflate: true, payloadKind: 'json', text: true } : {}),
  }, SECONDS * 1000 + 60_000);
  await lg.stop();
  await server.stop();
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: Node[]; startTime: number; endTime: number; samples: number[] };
  const total = prof.samples.length;
  const self = new Map<string, number>();
  for (const n of prof.nodes) {
    const f = n.callFrame;
    const where = f.url ? `${f.url.replace(/^file:\/\/.*?\/(dist|\.build\/[^/]+)\//, '').replace(/^node:/, 'node:')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + (n.hitCount ?? 0));
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP)
    .map(([k, v]) => [`\`${k}\``, ((v / total) * 100).toFixed(1)]);
  const md = [HANDSHAKES ? `### Profile: ${SERVER}, opening handshakes (3 x ${HANDSHAKES})` : `### Profile: ${SERVER}, ${SIZE} B${DEFLATE ? ' json, permessage-deflate' : TEXT ? ' text' : ''}, ${CONNS}c x ${INFLIGHT}`, '',
    `\`${commandLine(import.meta.url, argv)}\`; ${fmtNum(r.msgsPerSec)} ${HANDSHAKES ? 'handshakes' : 'msgs'}/s during the profile ` +
    `(profiling slows the server). Self time, top ${TOP} of ${total} samples; profile kept at ${join(dir, file)}.`, '',
    mdTable(['function (file:line)', 'self %'], rows), ''].join('\n');
  console.log(md);
  if (argv.includes('--write')) upsertSection(RESULTS_FILE, 'profile', md);
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
