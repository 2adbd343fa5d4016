// A real redis-server for a test: Debian's /usr/bin/redis-server on 127.0.0.1, its own free port
// and a config that writes nothing to disk; stopped at teardown. `stop()` and `start()` again on
// the same port simulate an outage; `freeze()` then `crash()` one where Redis stops answering
// with commands in flight, then dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type t from 'tap';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

export const REDIS_SERVER = '/usr/bin/redis-server';

/** For `{ skip: REDIS_SKIP }`: false, or why the Redis tests cannot run. */
export const REDIS_SKIP: string | false = existsSync(REDIS_SERVER)
  ? false
  : `${REDIS_SERVER} is not installed: install the Debian package redis-server to run the Redis tests`;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface RedisServer {
  port: number;
  url: string;
  /** Starts it (again, on the same port); resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
  /** SIGSTOP: its connections stay open, nothing is answered (until `crash()`). */
  freeze(): void;
  /** SIGKILL (frozen or not) and waits for the exit: the clients see their connections reset. */
  crash(): Promise<void>;
}

export async function redisServer(t: Test): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const c = child;
    child = null;
    if (c === null || c.exitCode !== null || c.signalCode !== null) return;
    const exited = once(c, 'exit');
    c.kill(signal);
    await exited;
  };
  const start = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'notice'];
    const c = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      c.stdout!.on('data', (chunk: Buffer) => {
        out += chunk;
        if (out.includes('Ready to accept connections')) resolve();
      });
      c.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${out}`)));
    });
  };
  // A frozen one ignores SIGTERM until it is continued: SIGKILL at teardown.
  t.teardown(() => stop('SIGKILL'));
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, start, stop: () => stop(), freeze: () => void child?.kill('SIGSTOP'), crash: () => stop('SIGKILL') };
}
