/**
 * Soak run (not part of npm test): thousands of connections churn against one echo server for a
 * bounded time: connect, handshake, exchange a few messages (every echo checked), then close
 * cleanly (60%), destroy abruptly (20%), die in the middle of a frame (10%) or half-close (10%).
 * Server RSS, JS heap, open connections and active handles are sampled before, during and
 * after; the verdict says whether anything leaked. Writes the `soak` section of bench/RESULTS.md.
 *
 *   node dist/bench/soak.js [--server ours|ws|uws] [--duration 60] [--workers 200] [--messages 4] [--print]
 */
import { commandLine, describeEnv, echoServerPeer, fmtNum, mdTable, option, sleep, startChild } from './util.js';
import { envLines, RESULTS_FILE, upsertSection } from './results.js';

const argv = process.argv.slice(2);
const SERVER = option('server', 'ours');
const DURATION_S = Math.min(3600, Number(option('duration', '60')));
const WORKERS = Number(option('workers', '200'));
const MESSAGES = Number(option('messages', '4'));
const PRINT = argv.includes('--print');
const FD = 65536;

interface Stats { rss: number; heapUsed: number; external: number; arrayBuffers: number; open: number; total: number; handles: number; t: number }

async function main() {
  const env = describeEnv(commandLine(import.meta.url, argv));
  const { kind, env: serverEnv } = echoServerPeer(SERVER);
  const server = startChild('echo-server.js', {
    cpu: 0, fdLimit: FD, nodeArgs: ['--expose-gc'], args: [kind],
    env: serverEnv,
  });
  const ready = await server.ready;
  if (ready.error) throw new Error(`server ${SERVER}: ${ready.error}`);
  const lg = startChild('loadgen.js', { cpu: 1, fdLimit: FD });
  await lg.ready;
  const port = ready.port as number;
  const stat = (): Promise<Stats> => server.request('stats', { gc: true });

  console.log(`soak: ${SERVER} on port ${port}, ${DURATION_S} s, ${WORKERS} concurrent clients`);
  // Warm-up churn so JIT code, pools and lazily built tables are not counted as growth.
  await lg.request('churn', { port, durationMs: 3000, workers: WORKERS, messages: MESSAGES, seed: 1 });
  const before = await settle(stat, undefined);
  const samples: Array<{ at: number; s: Stats }> = [];
  const t0 = Date.now();
  const churn = lg.request('churn', { port, durationMs: DURATION_S * 1000, workers: WORKERS, messages: MESSAGES, seed: 7 }, DURATION_S * 1000 + 120_000);
  let done = false;
  void churn.finally(() => { done = true; });
  const every = Math.max(2000, (DURATION_S * 1000) / 12);
  while (!done) {
    await Promise.race([sleep(every), churn.catch(() => {})]);
    if (done) break;
    const s = await stat();
    samples.push({ at: (Date.now() - t0) / 1000, s });
    console.log(`  t=${((Date.now() - t0) / 1000).toFixed(0)}s rss ${mb(s.rss)} heap ${mb(s.heapUsed)} open ${s.open} handles ${s.handles}`);
  }
  const counts = await churn;
  const after = await settle(stat, before);
  await lg.stop();
  await server.stop();

  const heapGrowth = after.heapUsed + after.external - (before.heapUsed + before.external);
  const leaks: string[] = [];
  if (after.open !== 0) leaks.push(`${after.open} connections still open on the server`);
  if (after.handles > before.handles) leaks.push(`${after.handles - before.handles} more active handles than before`);
  if (heapGrowth > Math.max(4 << 20, 0.2 * (before.heapUsed + before.external))) leaks.push(`JS heap + external grew by ${mb(heapGrowth)}`);
  if (counts.errors > 0) leaks.push(`${counts.errors} client-side errors (first: ${counts.firstError})`);
  const verdict = leaks.length ? `**LEAK / FAILURE**: ${leaks.join('; ')}` : 'no leak: connections and handles back to the baseline, heap within bounds';

  const row = (label: string, s: Stats) => [label, mb(s.rss), mb(s.heapUsed), mb(s.external), String(s.open), String(s.handles)];
  const md = [`## Soak (${SERVER})`, '',
    envLines(env, [`${DURATION_S} s of churn, ${WORKERS} concurrent clients, 1-${MESSAGES} echoed messages (16 B..70 KB) per connection; ` +
      'ends: 60% close handshake, 20% abrupt destroy, 10% destroyed mid-frame, 10% TCP half-close without a close frame']), '',
    `Connections: ${fmtNum(counts.connections)} (${fmtNum(counts.connections / DURATION_S)}/s), messages echoed and checked: ${fmtNum(counts.messages)}; ` +
    `clean ${counts.clean}, abrupt ${counts.abrupt}, mid-frame ${counts.midFrame}, half-close ${counts.halfClose}, client errors ${counts.errors}.`, '',
    mdTable(['when', 'RSS', 'JS heap', 'external', 'open connections', 'active handles'], [
      row('before (after warm-up, GC)', before),
      ...samples.map(({ at, s }) => row(`during, t=${at.toFixed(0)} s`, s)),
      row('after (settled, GC)', after),
    ]), '', `Verdict: ${verdict}.`, ''].join('\n');
  if (PRINT) console.log(md); else { upsertSection(RESULTS_FILE, SERVER === 'ours' ? 'soak' : `soak-${SERVER.replace(/[^\w]/g, '')}`, md); console.log(`wrote the soak section of ${RESULTS_FILE}`); }
  console.log(verdict);
  process.exitCode = leaks.length ? 1 : 0;
}

/** Wait (bounded) until the server has no open connection and its handle count stops falling. */
async function settle(stat: () => Promise<Stats>, baseline: Stats | undefined): Promise<Stats> {
  let s = await stat();
  for (let i = 0; i < 40 && (s.open > 0 || (baseline && s.handles > baseline.handles)); i++) { await sleep(500); s = await stat(); }
  await sleep(500);
  return stat();
}

const mb = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

const watchdog = setTimeout(() => { console.error('soak: time limit reached'); process.exit(2); }, DURATION_S * 1000 + 300_000);
watchdog.unref();
main().then(() => process.exit(process.exitCode ?? 0), (e) => { console.error(e); process.exit(1); });
