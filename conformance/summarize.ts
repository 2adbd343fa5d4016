/**
 * Summarizes Autobahn report index files (`reports/<dir>/index.json`, shaped
 * `{ agent: { caseId: { behavior, behaviorClose, duration, remoteCloseCode, reportfile } } }`).
 *   node dist/conformance/summarize.js reports/servers/index.json [more index.json...]
 * Exits 1 when any case FAILED (or carries a verdict Autobahn only uses for failures).
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** The verdicts Autobahn reports, in display order. */
export const VERDICTS = ['OK', 'NON-STRICT', 'INFORMATIONAL', 'UNIMPLEMENTED', 'FAILED'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Verdicts that do not fail a run; any other value (e.g. "WRONG CODE", "UNCLEAN") does. */
const PASSING = new Set<string>(['OK', 'NON-STRICT', 'INFORMATIONAL', 'UNIMPLEMENTED']);

export interface CaseResult { id: string; behavior: string; behaviorClose: string }

export interface AgentSummary {
  agent: string;
  cases: number;
  /** Count per verdict for `behavior` and `behaviorClose`; unknown verdicts get their own key. */
  behavior: Record<string, number>;
  behaviorClose: Record<string, number>;
  /** Every case whose behavior or behaviorClose is not OK, in case-id order. */
  notOk: CaseResult[];
  failed: boolean;
}

/** Orders Autobahn case ids numerically part by part ("9.10.1" after "9.2.1"). */
export function compareCaseIds(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0 && !Number.isNaN(d)) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function zero(): Record<string, number> {
  return Object.fromEntries(VERDICTS.map((v) => [v, 0]));
}

/** Summarizes a parsed index.json. Throws when the shape is not Autobahn's. */
export function summarizeIndex(index: unknown): AgentSummary[] {
  if (!isObject(index)) throw new Error('index.json: expected an object of agents');
  const agents = Object.keys(index).sort();
  if (agents.length === 0) throw new Error('index.json: no agent in the report');
  return agents.map((agent) => {
    const cases = index[agent];
    if (!isObject(cases)) throw new Error(`index.json: agent "${agent}" is not an object of cases`);
    const s: AgentSummary = { agent, cases: 0, behavior: zero(), behaviorClose: zero(), notOk: [], failed: false };
    for (const id of Object.keys(cases).sort(compareCaseIds)) {
      const c = cases[id];
      if (!isObject(c) || typeof c.behavior !== 'string' || typeof c.behaviorClose !== 'string') {
        throw new Error(`index.json: case ${id} of "${agent}" lacks behavior/behaviorClose`);
      }
      s.cases++;
      s.behavior[c.behavior] = (s.behavior[c.behavior] ?? 0) + 1;
      s.behaviorClose[c.behaviorClose] = (s.behaviorClose[c.behaviorClose] ?? 0) + 1;
      if (c.behavior !== 'OK' || c.behaviorClose !== 'OK') s.notOk.push({ id, behavior: c.behavior, behaviorClose: c.behaviorClose });
      if (!PASSING.has(c.behavior) || !PASSING.has(c.behaviorClose)) s.failed = true;
    }
    return s;
  });
}

function counts(r: Record<string, number>): string {
  return Object.entries(r).map(([k, n]) => `${k} ${n}`).join(', ');
}

/** Human-readable report; `label` names the direction (e.g. "server (fuzzingclient)"). */
export function formatSummary(label: string, summaries: AgentSummary[]): string {
  const lines: string[] = [];
  for (const s of summaries) {
    lines.push(`${label} agent "${s.agent}": ${s.cases} cases${s.failed ? ' - FAILED' : ''}`);
    lines.push(`  behavior:      ${counts(s.behavior)}`);
    lines.push(`  behaviorClose: ${counts(s.behaviorClose)}`);
    for (const c of s.notOk) lines.push(`  ${c.id}: behavior ${c.behavior}, behaviorClose ${c.behaviorClose}`);
  }
  return lines.join('\n');
}

/** Reads, summarizes and prints one index.json; returns whether anything failed. */
export function summarizeFile(path: string, label = path): boolean {
  const summaries = summarizeIndex(JSON.parse(readFileSync(path, 'utf8')));
  console.log(formatSummary(label, summaries));
  return summaries.some((s) => s.failed);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: node dist/conformance/summarize.js <index.json>...');
    process.exit(2);
  }
  let failed = false;
  for (const f of files) failed = summarizeFile(f) || failed;
  process.exit(failed ? 1 : 0);
}
