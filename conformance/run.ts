/**
 * `npm run conformance`: runs the Autobahn testsuite in both directions (fuzzingclient
 * against conformance/server, fuzzingserver for conformance/client) with Docker when an
 * engine answers, else with a `wstest` on PATH, then summarizes the reports.
 * Without either it says so in one line and exits 0, claiming nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarizeFile } from './summarize.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The project root: this file runs from dist/conformance/. */
const root = resolve(here, '..', '..');
const configDir = join(root, 'conformance');
const reportsDir = join(configDir, 'reports');
const IMAGE = 'crossbario/autobahn-testsuite';
const AGENT = 'rfcws';
const SERVER_PORT = 9001; // must match fuzzingclient.json
const FUZZINGSERVER_PORT = 9002; // must match fuzzingserver.json

type Runner = 'docker' | 'wstest';

function works(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
  return r.error === undefined && r.status === 0;
}

function pickRunner(): Runner | null {
  if (works('docker', ['info'])) return 'docker';
  if (works('wstest', ['--help'])) return 'wstest';
  return null;
}

/** The wstest invocation for `mode`; with Docker, config and reports are mounted and host networking reaches 127.0.0.1. */
function wstest(runner: Runner, mode: 'fuzzingclient' | 'fuzzingserver', extra: string[] = []): { cmd: string; args: string[]; cwd: string } {
  if (runner === 'wstest') return { cmd: 'wstest', args: ['-m', mode, '-s', `${mode}.json`], cwd: configDir };
  return {
    cmd: 'docker',
    args: ['run', '--rm', '--network', 'host', ...extra,
      '-v', `${configDir}:/config:ro`, '-v', `${reportsDir}:/reports`, '-w', '/',
      IMAGE, 'wstest', '-m', mode, '-s', `/config/${mode}.json`],
    cwd: root,
  };
}

function start(cmd: string, args: string[], cwd: string): ChildProcess {
  return spawn(cmd, args, { cwd, stdio: 'inherit' });
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((res) => {
    if (child.exitCode !== null) res(child.exitCode);
    else child.once('exit', (code) => res(code ?? 1));
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => { s.destroy(); res(true); });
      s.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited(child);
  clearTimeout(timer);
}

/** fuzzingclient (the suite as client) against our testee server. */
async function serverDirection(runner: Runner): Promise<void> {
  const server = start(process.execPath, [join(here, 'server.js'), '--port', String(SERVER_PORT)], root);
  try {
    await waitForPort(SERVER_PORT, 15_000);
    const w = wstest(runner, 'fuzzingclient');
    const code = await exited(start(w.cmd, w.args, w.cwd));
    if (code !== 0) throw new Error(`wstest fuzzingclient exited with ${code}`);
  } finally {
    await stop(server);
  }
}

/** fuzzingserver (the suite as server) driven by our testee client. */
async function clientDirection(runner: Runner): Promise<void> {
  const w = wstest(runner, 'fuzzingserver', ['--name', `rfcws-fuzzingserver-${process.pid}`]);
  const suite = start(w.cmd, w.args, w.cwd);
  try {
    await waitForPort(FUZZINGSERVER_PORT, 120_000);
    const client = start(process.execPath,
      [join(here, 'client.js'), '--url', `ws://127.0.0.1:${FUZZINGSERVER_PORT}`, '--agent', AGENT], root);
    const code = await exited(client);
    if (code !== 0) throw new Error(`the testee client exited with ${code}`);
  } finally {
    if (runner === 'docker') spawnSync('docker', ['stop', `rfcws-fuzzingserver-${process.pid}`], { stdio: 'ignore' });
    await stop(suite);
  }
}

async function main(): Promise<number> {
  const runner = pickRunner();
  if (!runner) {
    console.log('conformance: neither a working Docker engine nor wstest is available; Autobahn was not run and no result is claimed.');
    return 0;
  }
  console.log(`conformance: running the Autobahn testsuite with ${runner === 'docker' ? `docker (${IMAGE})` : 'wstest'}`);
  // Stale reports must never be summarized as this run's result.
  rmSync(join(reportsDir, 'servers'), { recursive: true, force: true });
  rmSync(join(reportsDir, 'clients'), { recursive: true, force: true });
  mkdirSync(reportsDir, { recursive: true });
  await serverDirection(runner);
  await clientDirection(runner);
  let failed = false;
  for (const [dir, label] of [['servers', 'server (fuzzingclient)'], ['clients', 'client (fuzzingserver)']] as const) {
    const index = join(reportsDir, dir, 'index.json');
    if (!existsSync(index)) {
      console.log(`${label}: no report at ${index}`);
      failed = true;
      continue;
    }
    failed = summarizeFile(index, label) || failed;
  }
  console.log(`full reports: ${join(reportsDir, 'servers', 'index.html')} and ${join(reportsDir, 'clients', 'index.html')}`);
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (err: Error) => {
  console.error(`conformance: ${err.message}`);
  process.exit(1);
});
