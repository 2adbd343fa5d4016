// The Autobahn report summarizer on sample index.json files (test/fixtures/autobahn/),
// and run.js's behaviour where neither Docker nor wstest exists.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareCaseIds, formatSummary, summarizeIndex } from '../../conformance/summarize.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Compiled output lives in dist/ or .build/<x>/; the fixtures stay in the source tree. */
function findFixtures(): string {
  for (let d = here; d !== dirname(d); d = dirname(d)) {
    const f = join(d, 'test', 'fixtures', 'autobahn');
    if (existsSync(join(d, 'package.json')) && existsSync(f)) return f;
  }
  throw new Error('test/fixtures/autobahn not found above ' + here);
}
const fixtures = findFixtures();
const load = (name: string): unknown => JSON.parse(readFileSync(join(fixtures, name), 'utf8'));
const summarizeJs = join(here, '..', '..', 'conformance', 'summarize.js');
const runJs = join(here, '..', '..', 'conformance', 'run.js');

t.test('a clean report: counts per verdict, non-OK cases listed, not failed', async (t) => {
  const [s] = summarizeIndex(load('index-clean.json'));
  t.equal(s.agent, 'rfcws');
  t.equal(s.cases, 8);
  t.same(s.behavior, { OK: 5, 'NON-STRICT': 1, INFORMATIONAL: 1, UNIMPLEMENTED: 1, FAILED: 0 });
  t.same(s.behaviorClose, { OK: 6, 'NON-STRICT': 0, INFORMATIONAL: 1, UNIMPLEMENTED: 1, FAILED: 0 });
  t.same(s.notOk.map((c) => c.id), ['6.4.3', '7.13.1', '12.1.1']);
  t.equal(s.failed, false);
});

t.test('a failing report: FAILED and WRONG CODE both fail, listed in case order', async (t) => {
  const [s] = summarizeIndex(load('index-failed.json'));
  t.same(s.behavior, { OK: 5, 'NON-STRICT': 0, INFORMATIONAL: 0, UNIMPLEMENTED: 0, FAILED: 1 });
  t.same(s.behaviorClose, { OK: 4, 'NON-STRICT': 0, INFORMATIONAL: 0, UNIMPLEMENTED: 0, FAILED: 1, 'WRONG CODE': 1 });
  t.same(s.notOk, [
    { id: '3.1', behavior: 'FAILED', behaviorClose: 'OK' },
    { id: '5.9', behavior: 'OK', behaviorClose: 'FAILED' },
    { id: '7.9.1', behavior: 'OK', behaviorClose: 'WRONG CODE' },
  ]);
  t.equal(s.failed, true);
  const text = formatSummary('server', [s]);
  t.match(text, /server agent "rfcws": 6 cases - FAILED/);
  t.match(text, /behavior: {6}OK 5, NON-STRICT 0, INFORMATIONAL 0, UNIMPLEMENTED 0, FAILED 1/);
  t.match(text, /7\.9\.1: behavior OK, behaviorClose WRONG CODE/);
});

t.test('an UNCLEAN close fails the run even without FAILED', async (t) => {
  const [s] = summarizeIndex(load('index-unclean.json'));
  t.equal(s.failed, true);
  t.same(s.notOk.map((c) => c.id), ['7.1.6']);
});

t.test('several agents are summarized separately', async (t) => {
  const s = summarizeIndex(load('index-two-agents.json'));
  t.same(s.map((a) => [a.agent, a.cases, a.failed]), [['other', 1, true], ['rfcws', 2, false]]);
});

t.test('a report that is not Autobahn-shaped is rejected', async (t) => {
  t.throws(() => summarizeIndex(load('index-malformed.json')), /lacks behavior\/behaviorClose/);
  t.throws(() => summarizeIndex([]), /expected an object/);
  t.throws(() => summarizeIndex({}), /no agent/);
  t.throws(() => summarizeIndex({ a: 3 }), /not an object of cases/);
});

t.test('case ids sort numerically', async (t) => {
  t.same(['9.10.1', '10.1.1', '9.2.1', '1.1.10', '1.1.2'].sort(compareCaseIds), ['1.1.2', '1.1.10', '9.2.1', '9.10.1', '10.1.1']);
});

t.test('summarize.js exits 0 on a clean report and 1 on a failing one', async (t) => {
  const ok = spawnSync(process.execPath, [summarizeJs, join(fixtures, 'index-clean.json')], { encoding: 'utf8' });
  t.equal(ok.status, 0, ok.stderr);
  t.match(ok.stdout, /behaviorClose: OK 6, NON-STRICT 0, INFORMATIONAL 1, UNIMPLEMENTED 1, FAILED 0/);
  t.match(ok.stdout, /6\.4\.3: behavior NON-STRICT, behaviorClose OK/);
  const bad = spawnSync(process.execPath, [summarizeJs, join(fixtures, 'index-clean.json'), join(fixtures, 'index-failed.json')], { encoding: 'utf8' });
  t.equal(bad.status, 1);
  t.match(bad.stdout, /3\.1: behavior FAILED, behaviorClose OK/);
});

t.test('run.js without Docker or wstest says so in one line and exits 0', async (t) => {
  const emptyPath = mkdtempSync(join(tmpdir(), 'no-tools-'));
  t.teardown(() => rmSync(emptyPath, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, [runJs], { encoding: 'utf8', env: { ...process.env, PATH: emptyPath } });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout.trim().split('\n').length, 1, 'one line');
  t.match(r.stdout, /neither .*Docker.* nor wstest/);
  t.notMatch(r.stdout, /OK|FAILED|pass/, 'claims no result');
});
