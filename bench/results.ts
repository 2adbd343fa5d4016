/**
 * bench/RESULTS.md is assembled from named sections so each script (run, soak, capacity) and the
 * hand-written analysis replace only their own part: `<!-- section:NAME -->` ... `<!-- /section:NAME -->`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type RunEnv } from './util.js';

export const RESULTS_FILE = join(ROOT, 'bench', 'RESULTS.md');

/** Sections in the order they appear in the file; unknown ones keep their place at the end. */
const ORDER = ['title', 'main', 'analysis', 'profile', 'soak', 'capacity'];

export function upsertSection(file: string, name: string, body: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const sections = new Map<string, string>();
  const re = /<!-- section:([\w-]+) -->\n([\s\S]*?)<!-- \/section:\1 -->\n?/g;
  for (let m; (m = re.exec(text));) sections.set(m[1]!, m[2]!);
  sections.set(name, body.endsWith('\n') ? body : body + '\n');
  if (!sections.has('title')) {
    sections.set('title', '# Benchmark results\n\nWritten by the bench scripts (`npm run bench`, `bench/soak.ts`, ' +
      '`bench/capacity.ts`); each section names the command that produced it. Absolute numbers are ' +
      'machine-dependent noise; the ratios measured in one run are the result.\n');
  }
  const names = [...ORDER.filter((n) => sections.has(n)), ...[...sections.keys()].filter((n) => !ORDER.includes(n))];
  const out = names.map((n) => `<!-- section:${n} -->\n${sections.get(n)}<!-- /section:${n} -->\n`).join('\n');
  writeFileSync(file, out);
}

export function envLines(env: RunEnv, extra: string[] = []): string {
  return [
    `- Date: ${env.date}`,
    `- Command: \`${env.command}\``,
    `- Node ${env.node}; CPU: ${env.cpu} (${env.cores} cores); commit ${env.commit}`,
    `- Pinning: ${env.taskset ? 'server on core 0, load generator / client on core 1 (taskset -c)' : 'none (no taskset or one core)'}; fd limit of the bench shell: ${env.fdLimit}`,
    ...extra.map((e) => `- ${e}`),
  ].join('\n');
}
