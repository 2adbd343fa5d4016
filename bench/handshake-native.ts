/**
 * The native generator of the handshake-rate cell: bench/loadgen-handshake.c compiled with the
 * system `cc` into a temporary directory when the cell starts (never at install), then run once per
 * measurement, pinned to the client core, with the cycle's bytes from bench/frames.ts. Its result
 * has the shape of bench/loadgen.ts `handshakes`, so the cell treats both generators alike.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectedAccept, handshakeCycleBytes } from './frames.js';
import { ROOT, hasTaskset } from './util.js';

export interface HandshakeRun { completed: number; seconds: number; perSec: number; cpuPct: number; errors: number; firstError: string }
export interface HandshakeArgs {
  port: number; parallel: number; warmupMs: number; durationMs: number; mode: 'ws' | 'raw';
  /** Native generator only: end the window once this many cycles completed in it (tests). */
  limit?: number;
}

export interface NativeGenerator {
  handshakes(a: HandshakeArgs): Promise<HandshakeRun>;
  /** Remove the compiled binary and its directory. */
  dispose(): void;
}

/** The C source, next to this file's TypeScript source. */
export const NATIVE_SOURCE = join(ROOT, 'bench', 'loadgen-handshake.c');

/**
 * Compile the generator. Returns it, or why it cannot be used (no source, no `cc`, compile error,
 * or BENCH_HANDSHAKE_GEN=node asking for the Node generator).
 */
export function buildNativeGenerator(cpu: number | undefined): NativeGenerator | string {
  if (process.env.BENCH_HANDSHAKE_GEN === 'node') return 'BENCH_HANDSHAKE_GEN=node asks for the Node generator';
  if (process.platform !== 'linux') return `epoll needs Linux (this is ${process.platform})`;
  if (!existsSync(NATIVE_SOURCE)) return `${NATIVE_SOURCE} is missing`;
  const dir = mkdtempSync(join(tmpdir(), 'rfcws-loadgen-'));
  const bin = join(dir, 'loadgen-handshake');
  try {
    execFileSync('cc', ['-O2', '-o', bin, NATIVE_SOURCE], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') return 'no `cc` on PATH';
    return `cc failed: ${(err.stderr?.toString() || err.message).split('\n')[0]}`;
  }
  const pin = cpu !== undefined && hasTaskset() ? ['taskset', '-c', String(cpu)] : [];
  return {
    handshakes: (a) => new Promise((resolve, reject) => {
      const { request, frame, reply } = handshakeCycleBytes('127.0.0.1', a.port, 16, a.mode === 'raw');
      const args = [bin, String(a.port), String(a.parallel), String(a.warmupMs), String(a.durationMs), a.mode,
        request.toString('hex'), frame.toString('hex'), reply.toString('hex'), expectedAccept(request), String(a.limit ?? 0)];
      const argv = [...pin, ...args];
      execFile(argv[0]!, argv.slice(1), { timeout: a.warmupMs + a.durationMs + 30_000 }, (err, stdout, stderr) => {
        if (err) { reject(new Error(`loadgen-handshake: ${stderr.trim() || err.message}`)); return; }
        try { resolve(JSON.parse(stdout) as HandshakeRun); } catch { reject(new Error(`loadgen-handshake: unreadable output ${JSON.stringify(stdout.slice(0, 200))}`)); }
      });
    }),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
