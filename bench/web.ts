/**
 * The `web` cell of bench/run.ts (`--only web`): messages/s in the client role for this
 * project's WHATWG WebSocket (rfcws/web) against undici's WebSocket and against this project's
 * own WebSocket (connect()), each in its own child process on the client core, all through the
 * same echo server, the order rotating between runs; ratios are per run, then the median.
 * Writes its own section, `web`, into the results file.
 */
import { commandLine, describeEnv, fmtMed, fmtRatio, mdTable, median, startChild, type Child } from './util.js';
import { envLines, upsertSection } from './results.js';

export interface WebCellOptions {
  quick: boolean; runs: number; out: string; argv: string[]; scriptUrl: string;
  serverKind: string; serverCpu: number; clientCpu: number; warmupMs: number; durationMs: number;
  log(s: string): void;
}

const IMPLS = [
  { name: 'rfcws/web', impl: 'web' },
  { name: 'undici', impl: 'undici' },
  { name: 'rfcws WebSocket', impl: 'ours' },
] as const;

export async function webSection(o: WebCellOptions): Promise<void> {
  o.log(`web: the WHATWG WebSocket vs undici's vs our own WebSocket, client role, ${o.serverKind} echo server`);
  const server = startChild('echo-server.js', { cpu: o.serverCpu, args: [o.serverKind] });
  const { port } = await server.ready;
  const children = new Map<string, Child>();
  for (const i of IMPLS) { const c = startChild('web-client.js', { cpu: o.clientCpu }); await c.ready; children.set(i.name, c); }
  const cells = [
    { label: '16 B text, 1c x 32', size: 16, conns: 1, inflight: 32 },
    { label: '1 KiB text, 1c x 32', size: 1024, conns: 1, inflight: 32 },
    ...(o.quick ? [] : [{ label: '16 B text, 64c x 32', size: 16, conns: 64, inflight: 32 }, { label: '1 KiB text, 64c x 32', size: 1024, conns: 64, inflight: 32 }]),
  ];
  const res = new Map<string, number[]>();
  const notes: string[] = [];
  for (const c of cells) {
    for (let r = 0; r < o.runs; r++) {
      for (let k = 0; k < IMPLS.length; k++) {
        const i = IMPLS[(k + r) % IMPLS.length]!;
        let v = NaN;
        try {
          const x = await children.get(i.name)!.request('run', {
            url: `ws://127.0.0.1:${port}/`, impl: i.impl, size: c.size, conns: c.conns, inflight: c.inflight,
            warmupMs: o.warmupMs, durationMs: o.durationMs,
          });
          if (x.errors) notes.push(`${i.name} ${c.label}: ${x.errors} echo mismatches`);
          v = x.msgsPerSec;
        } catch (e) {
          notes.push(`${i.name} ${c.label}: ${(e as Error).message.split('\n')[0]}`);
        }
        res.set(`${c.label}|${i.name}`, [...(res.get(`${c.label}|${i.name}`) ?? []), v]);
      }
    }
    o.log(`  ${c.label}: ` + IMPLS.map((i) => `${i.name} ${fmtMed(res.get(`${c.label}|${i.name}`) ?? [])}`).join(', '));
  }
  for (const c of children.values()) await c.stop();
  await server.stop();
  const g = (c: { label: string }, n: string) => res.get(`${c.label}|${n}`) ?? [];
  const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]!).filter(Number.isFinite));
  const rows = cells.map((c) => [c.label, ...IMPLS.map((i) => fmtMed(g(c, i.name))),
    fmtRatio(ratio(g(c, 'rfcws/web'), g(c, 'undici'))), fmtRatio(ratio(g(c, 'rfcws/web'), g(c, 'rfcws WebSocket')))]);
  const env = describeEnv(commandLine(o.scriptUrl, o.argv));
  upsertSection(o.out, 'web', ['## The browser-compatible WebSocket (rfcws/web) in the client role', '', envLines(env), '',
    `Each client class in its own process on core ${o.clientCpu} pipelines text messages (strings for the WHATWG classes) through the same ` +
    `${o.serverKind} echo server on core ${o.serverCpu} and checks every echo. Messages/s, median ±spread of ${o.runs} run(s); ` +
    'ratios within a run, then the median.', '',
    mdTable(['cell', ...IMPLS.map((i) => i.name), 'web/undici', 'web/own WebSocket'], rows), '',
    ...notes.map((n) => `- ${n}`), ''].join('\n'));
  o.log(`wrote section web of ${o.out}`);
}
