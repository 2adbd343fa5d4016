/**
 * Profile a server under the handshake cell's cycle (connect, upgrade, one echo, reset), driven by
 * the native generator (bench/loadgen-handshake.c) pinned to the other core: the echo server runs
 * with `node --cpu-prof`, and the profile's self time is printed per function and per category
 * (ours, node: internals, GC, idle, native/program), top N, as markdown.
 *
 *   node dist/bench/profile-handshake.js [--server ours|ws|ws+bufferutil|uWS.js|raw] [--seconds 5] [--top 20] [--dir /tmp/rfcws-hsprof]
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildNativeGenerator } from './handshake-native.js';
import { HANDSHAKE_PARALLEL } from './handshake-rate.js';
import { echoServerPeer, fmtNum, mdTable, option, startChild } from './util.js';

const SERVER = option('server', 'ours');
const SECONDS = Math.min(60, Number(option('seconds', '5')));
const TOP = Number(option('top', '20'));
const DIR = option('dir', '/tmp/rfcws-hsprof');

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }

function category(name: string, url: string): string {
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return 'native (program)';
  if (url.startsWith('node:')) return 'node: internals';
  if (url.includes('/node_modules/')) return 'peer library';
  if (url === '') return 'native (program)';
  return 'this project';
}

async function main(): Promise<void> {
  const dir = join(DIR, `${SERVER}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const gen = buildNativeGenerator(1);
  if (typeof gen === 'string') throw new Error(gen);
  const { kind, env } = echoServerPeer(SERVER);
  const server = startChild('echo-server.js', { cpu: 0, args: [kind], env, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  const ready = await server.ready;
  if (ready.error) throw new Error(ready.error);
  const run = await gen.handshakes({ port: ready.port, parallel: HANDSHAKE_PARALLEL, warmupMs: 500, durationMs: SECONDS * 1000, mode: kind === 'raw' ? 'raw' : 'ws' });
  gen.dispose();
  await server.stop();
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  const hits = new Map<number, number>();
  for (const id of prof.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const total = prof.samples.length;
  const self = new Map<string, number>();
  const cats = new Map<string, number>();
  for (const n of prof.nodes) {
    const h = hits.get(n.id) ?? 0;
    if (h === 0) continue;
    const f = n.callFrame;
    const where = f.url ? ` ${f.url.replace(/^file:\/\/.*?\/dist\//, '')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'}${where}`;
    self.set(key, (self.get(key) ?? 0) + h);
    const c = category(f.functionName, f.url);
    cats.set(c, (cats.get(c) ?? 0) + h);
  }
  const pct = (v: number): string => ((v / total) * 100).toFixed(1);
  console.log(`### Handshake profile: ${SERVER}, ${fmtNum(run.perSec)} cycles/s (generator CPU ${run.cpuPct.toFixed(0)}%, ${run.errors} errors), ${total} samples\n`);
  console.log(mdTable(['category', '% of samples'], [...cats.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, pct(v)])));
  console.log('');
  console.log(mdTable(['function (self time)', '% of samples'], [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([k, v]) => [`\`${k}\``, pct(v)])));
  console.log(`\nprofile: ${join(dir, file)}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
