// Runs an example the way its README command does (node dist/examples/<name>/server.js),
// on 127.0.0.1 and an ephemeral port, and stops it when the test ends.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

type Teardown = { teardown(fn: () => void | Promise<void>): void };

export interface RunningExample {
  /** The match of `ready` against the example's stdout. */
  match: RegExpMatchArray;
  /** Everything it printed so far, for failure messages. */
  output(): string;
}

/**
 * Starts `examples/<name>/server.js` with `--host 127.0.0.1 --port 0` and resolves
 * once its stdout matches `ready`. When `t` ends the example gets SIGTERM (it then
 * closes its clients with 1001), and SIGKILL if it has not exited 5 s later. `args` go after
 * `--port 0` (e.g. `--workers 2`).
 */
export async function startExample(t: Teardown, name: string, ready: RegExp, env: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<RunningExample> {
  const script = fileURLToPath(new URL(`../../examples/${name}/server.js`, import.meta.url));
  const child = spawn(process.execPath, [script, '--host', '127.0.0.1', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = once(child, 'exit');
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const onData = (): void => {
      const m = ready.exec(out);
      if (m !== null) {
        child.stdout.off('data', onData);
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    exited.then(([code, signal]) => reject(new Error(`examples/${name} exited (${code ?? signal}) before printing ${ready}:\n${out}`)), reject);
  });
  return { match, output: () => out };
}
