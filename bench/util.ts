/**
 * Shared helpers of the benchmark scripts: statistics, table formatting, the machine/run
 * description printed at the top of RESULTS.md, child-process plumbing (IPC, CPU pinning,
 * raised fd limits) and loading project modules that may not exist yet.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

/** Directory of the compiled bench scripts (dist/bench or .build/x/bench). */
export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
/** The project root (where package.json lives), found by walking up from BENCH_DIR. */
export const ROOT = findRoot(BENCH_DIR);

function findRoot(from: string): string {
  let d = from;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'package.json'))) return d;
    d = dirname(d);
  }
  return process.cwd();
}

// ---------------------------------------------------------------- command line

/** The value after `--name` on the command line, or `dflt`. */
export function option(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`, 2);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}

/** The values of a repeatable `--name value` (e.g. `--build A=DIR --build B=DIR`), in order. */
export function options(name: string): string[] {
  const argv = process.argv;
  return argv.flatMap((a, i) => (i >= 2 && a === `--${name}` && argv[i + 1] !== undefined ? [argv[i + 1]!] : []));
}

// ---------------------------------------------------------------- statistics

/** Median of the finite values (failed runs are NaN). */
export function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The echo-server.ts kind and environment of a peer named as in the tables ('ours', 'ws' (pure JS),
 * 'ws+bufferutil', 'uWS.js', 'raw net' or 'raw').
 */
export function echoServerPeer(name: string): { kind: string; env: Record<string, string | undefined> } {
  if (name === 'ws') return { kind: 'ws', env: { WS_NO_BUFFER_UTIL: '1' } };
  if (name === 'ws+bufferutil') return { kind: 'ws', env: { WS_NO_BUFFER_UTIL: undefined } };
  if (name === 'uWS.js') return { kind: 'uws', env: {} };
  if (name === 'raw net') return { kind: 'raw', env: {} };
  return { kind: name, env: {} };
}

/** Spread as (max - min) / median, in percent: the honest noise figure of few runs. */
export function spreadPct(xs: number[]): number {
  xs = xs.filter(Number.isFinite);
  if (xs.length < 2) return 0;
  const m = median(xs);
  if (!m) return 0;
  return ((Math.max(...xs) - Math.min(...xs)) / m) * 100;
}

export function quantile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i]!;
}

// ---------------------------------------------------------------- formatting

export function fmtNum(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return 'n/a';
  const a = Math.abs(x);
  if (a >= 1e9) return (x / 1e9).toPrecision(digits) + ' G';
  if (a >= 1e6) return (x / 1e6).toPrecision(digits) + ' M';
  if (a >= 1e4) return (x / 1e3).toPrecision(digits) + ' k';
  if (a >= 100) return x.toFixed(0);
  const p = x.toPrecision(digits);
  // 99.97 to 2 digits is "1.0e+2": print it as the integer it rounds to.
  return p.includes('e') ? x.toFixed(0) : p;
}

export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  return x.toFixed(2) + 'x';
}

/** Median with spread, e.g. "312 k ±4%". */
export function fmtMed(xs: number[], fmt: (x: number) => string = fmtNum): string {
  xs = xs.filter(Number.isFinite);
  if (xs.length === 0) return 'n/a';
  const m = median(xs);
  return xs.length > 1 ? `${fmt(m)} ±${spreadPct(xs).toFixed(0)}%` : fmt(m);
}

export function fmtBytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n >> 10} KiB`;
  return `${n} B`;
}

export function mdTable(head: string[], rows: string[][]): string {
  const out = ['| ' + head.join(' | ') + ' |', '|' + head.map(() => ' --- ').join('|') + '|'];
  for (const r of rows) out.push('| ' + r.join(' | ') + ' |');
  return out.join('\n');
}

// ---------------------------------------------------------------- environment

/** The command that really ran: `npm run bench` / `node dist/bench/x.js`, or the dev build path. */
export function commandLine(scriptUrl: string, args: string[]): string {
  const rel = relative(ROOT, fileURLToPath(scriptUrl));
  const tail = args.length ? ' ' + args.join(' ') : '';
  if (rel === join('dist', 'bench', 'run.js')) return `npm run bench${args.length ? ' --' + tail : ''}`;
  return `node ${rel}${tail}`;
}

export interface RunEnv {
  date: string; node: string; cpu: string; cores: number; commit: string; command: string;
  taskset: boolean; fdLimit: string;
}

export function describeEnv(command: string): RunEnv {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch { /* not Linux */ }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString().trim();
    // What was measured may include files not committed yet (tracked or new) under lib/ and bench/.
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib', 'bench'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString();
    // Porcelain lines are "XY path": keep their leading status columns (no trim before slicing).
    const paths = dirty.split('\n').filter((l) => l.length > 3).map((l) => l.slice(3).split('/').slice(0, 2).join('/'));
    if (paths.length > 0) commit += ` + uncommitted changes in ${[...new Set(paths)].join(', ')}`;
  } catch { /* not a checkout */ }
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    node: process.version, cpu, cores: cpus().length, commit, command,
    taskset: hasTaskset(), fdLimit: shellOut('ulimit -n') + ' (soft), ' + shellOut('ulimit -Hn') + ' (hard)',
  };
}

function shellOut(cmd: string): string {
  try { return execFileSync('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { return '?'; }
}

let tasksetCache: boolean | undefined;
export function hasTaskset(): boolean {
  if (tasksetCache === undefined) {
    try { execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }); tasksetCache = cpus().length > 1; } catch { tasksetCache = false; }
  }
  return tasksetCache;
}

// ---------------------------------------------------------------- children

export interface ChildOptions {
  /** Core to pin to (taskset -c); ignored without taskset. */
  cpu?: number;
  env?: Record<string, string | undefined>;
  /** Raise the soft fd limit to this in the spawning shell (root may raise the hard one too). */
  fdLimit?: number;
  nodeArgs?: string[];
  args?: string[];
}

/**
 * Start `node <script>` (a file in BENCH_DIR) with an IPC channel, optionally pinned to one core
 * and with a raised fd limit. The child exits by itself when the parent goes away.
 */
export function startChild(script: string, opts: ChildOptions = {}): Child {
  const node = [process.execPath, ...(opts.nodeArgs ?? []), join(BENCH_DIR, script), ...(opts.args ?? [])];
  const pin = opts.cpu !== undefined && hasTaskset() ? ['taskset', '-c', String(opts.cpu)] : [];
  const argv = [...pin, ...node];
  let cp: ChildProcess;
  const env = { ...process.env, ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  if (opts.fdLimit) {
    // A shell raises the limit, then execs the child so the pid and IPC fd stay the child's.
    const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const script = `ulimit -Hn ${opts.fdLimit} 2>/dev/null; ulimit -n ${opts.fdLimit} 2>/dev/null || ulimit -n $(ulimit -Hn); exec ${quoted}`;
    cp = spawn('bash', ['-c', script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
  } else {
    cp = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
  }
  return new Child(cp, script);
}

/**
 * `--build NAME=DIR` of the A/B scripts: the `startChild` of another build (DIR is a built `dist`
 * directory, e.g. one built from another commit), so its servers run beside this build's.
 */
export async function buildStarter(spec: string): Promise<{ name: string; start: typeof startChild }> {
  const [name, dir] = spec.split('=') as [string, string];
  const util = join(dir, 'bench', 'util.js');
  if (!existsSync(util)) throw new Error(`--build ${spec}: no ${util} (DIR is a built dist directory)`);
  return { name, start: ((await import(pathToFileURL(util).href)) as { startChild: typeof startChild }).startChild };
}


/** Request/response over the IPC channel: every request carries an id, the reply echoes it. */
export class Child {
  private seq = 0;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private exited = false;
  readonly ready: Promise<any>;

  constructor(readonly cp: ChildProcess, readonly name: string) {
    let readyResolve!: (v: any) => void; let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => { readyResolve = res; readyReject = rej; });
    cp.on('message', (m: any) => {
      if (m && m.type === 'ready') { readyResolve(m); return; }
      // A ClusterBroker shares the channel (its messages carry a tag, and ids of their own).
      if (m?.tag !== undefined) return;
      const p = this.pending.get(m?.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new Error(`${name}: ${m.error}`)); else p.resolve(m.result);
    });
    cp.on('exit', (code, sig) => {
      this.exited = true;
      const e = new Error(`${name} exited (${code ?? sig})`);
      readyReject(e);
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
    this.ready.catch(() => {});
  }

  get pid(): number | undefined { return this.cp.pid; }

  request<T = any>(cmd: string, args: unknown = {}, timeoutMs = 120_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running`));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.cp.send({ id, cmd, args });
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((res) => this.cp.once('exit', () => res()));
    try { this.cp.send({ id: 0, cmd: 'exit' }); } catch { /* channel gone */ }
    const t = setTimeout(() => { if (!this.exited) this.cp.kill('SIGKILL'); }, 3000);
    await done;
    clearTimeout(t);
  }
}

/**
 * The child side: answer requests with the given handlers; exit when the parent disconnects or
 * asks, or after `maxLifeMs` whatever happens (nothing here may run forever).
 */
export function serveParent(handlers: Record<string, (args: any) => unknown>, readyInfo: Record<string, unknown> = {},
  maxLifeMs = 60 * 60_000): void {
  if (!process.send) throw new Error('this script runs as a child of bench/run.js');
  const life = setTimeout(() => { console.error('bench child: lifetime exceeded, exiting'); process.exit(3); }, maxLifeMs);
  life.unref();
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (m: any) => {
    if (m.cmd === 'exit') { process.exit(0); }
    if (typeof m?.cmd !== 'string') return; // not ours: a ClusterBroker's message on the same channel
    const h = handlers[m.cmd];
    try {
      if (!h) throw new Error(`unknown command ${m.cmd}`);
      const result = await h(m.args);
      process.send!({ id: m.id, result });
    } catch (e) {
      process.send!({ id: m.id, error: e instanceof Error ? e.stack ?? e.message : String(e) });
    }
  });
  process.send({ type: 'ready', ...readyInfo });
}

// ---------------------------------------------------------------- project modules

/**
 * Import a compiled project module (path relative to the compiled lib/, e.g. 'protocol/connection.js').
 * Returns null when it does not exist or fails to load, so the harness runs before every layer lands.
 */
export async function importLib(rel: string): Promise<any | null> {
  const file = join(BENCH_DIR, '..', 'lib', rel);
  if (!existsSync(file)) return null;
  try { return await import(pathToFileURL(file).href); } catch (e) {
    console.error(`bench: cannot load lib/${rel}: ${(e as Error).message}`);
    return null;
  }
}

export function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

/**
 * The measurement window of a load run: wait out the warm-up, count for
 * `durationMs` (the caller's counter is on while `setCounting(true)` holds),
 * and return the seconds measured and this process's CPU use over them.
 */
export async function measureWindow(warmupMs: number, durationMs: number, setCounting: (on: boolean) => void): Promise<{ seconds: number; cpuPct: number }> {
  await sleep(warmupMs);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  setCounting(true);
  await sleep(durationMs);
  setCounting(false);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  return { seconds, cpuPct: ((cpu.user + cpu.system) / 1e6 / seconds) * 100 };
}
