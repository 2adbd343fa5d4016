/**
 * The real tinyproxy (Debian package `tinyproxy`), started by a test on 127.0.0.1 with its
 * own config in a temp dir (no system log or pid paths), stopped at teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TINYPROXY = '/usr/bin/tinyproxy';

/** Why tinyproxy tests are skipped, or false when it is installed. */
export function tinyproxyMissing(): string | false {
  return existsSync(TINYPROXY) ? false : `${TINYPROXY} not found: install the Debian package tinyproxy (apt-get install tinyproxy)`;
}

type Test = { teardown(fn: () => unknown): void };

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`tinyproxy exited with ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`tinyproxy did not listen on ${port}: ${log()}`);
}

/**
 * Start tinyproxy in the foreground. `connectPorts`: the ports CONNECT may reach (tinyproxy
 * refuses others with 403); `auth`: BasicAuth user and password it requires.
 */
export async function startTinyproxy(t: Test, connectPorts: number[], auth?: { user: string; pass: string }): Promise<{ url: string; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'rfcws-tinyproxy-'));
  const port = await freePort();
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 30',
    'MaxClients 20',
    'Allow 127.0.0.1',
    `PidFile "${join(dir, 'tinyproxy.pid')}"`,
    `LogFile "${join(dir, 'tinyproxy.log')}"`,
    'LogLevel Info',
    'DisableViaHeader Yes',
    ...connectPorts.map((p) => `ConnectPort ${p}`),
  ];
  if (auth !== undefined) lines.push(`BasicAuth ${auth.user} ${auth.pass}`);
  const config = join(dir, 'tinyproxy.conf');
  writeFileSync(config, `${lines.join('\n')}\n`);
  let output = '';
  const child = spawn(TINYPROXY, ['-d', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  t.teardown(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  await waitForPort(port, child, () => output);
  return { url: `http://127.0.0.1:${port}`, port };
}
