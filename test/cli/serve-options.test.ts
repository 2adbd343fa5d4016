// Issue 2, CLI: the serve options not covered by test/cli.test.ts (--port, --host,
// --path, --max-payload, --keepalive) and what `npm start` prints.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { connect } from '../../lib/client/client.js';
import type { HandshakeError } from '../../lib/errors.js';
import { upgradeRequest } from '../helpers/http.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { failure as failureOf } from '../helpers/failure.js';
const failure = (p: Promise<unknown>): Promise<HandshakeError> => failureOf<HandshakeError>(p);

const CLI = fileURLToPath(new URL('../../lib/cli.js', import.meta.url));

/** The project root: the nearest directory above this (compiled) file with a package.json. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

/** Starts `rfcws serve ...args`; resolves with everything printed up to the "Try it" line. */
async function serve(t: Test, args: string[]): Promise<{ child: ChildProcess; url: string; banner: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  const banner = await new Promise<string>((resolve, reject) => {
    const onData = (c: Buffer): void => {
      out += c.toString();
      if (/Try it:.*\n/.test(out)) {
        child.stdout!.off('data', onData);
        resolve(out);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  const url = /listening on (ws:\/\/\S+)/.exec(banner)![1]!;
  return { child, url, banner };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exit = once(child, 'exit');
  child.kill('SIGTERM');
  return (await exit)[0] as number | null;
}


t.test('npm start runs `serve --port 8080` after a build; serve prints its URL on 127.0.0.1 and how to try it', async (t) => {
  const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.match(pkg.scripts.start, /^node dist\/lib\/cli\.js serve --port 8080$/);
  t.match(pkg.scripts.prestart, /build/);
  const { child, url, banner } = await serve(t, ['--port', '0']);
  t.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/$/, 'default host 127.0.0.1');
  t.ok(banner.includes(`Try it: node dist/lib/cli.js connect ${url}`), 'prints the command to talk to it');
  // serve logs connections: one line when a client opens, one when it closes.
  let log = '';
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  const ws = await connect(url, { keepAliveInterval: 0 });
  const closed = once(ws, 'close');
  ws.close(1000, 'done');
  await closed;
  while (!/ close /.test(log)) await once(child.stdout!, 'data');
  t.match(log, /open {2}127\.0\.0\.1:\d+/, 'logs the open');
  t.match(log, /close 127\.0\.0\.1:\d+ code=1000 reason="done" clean=true/, 'logs the close with code, reason, wasClean');
  t.equal(await stop(child), 0);
});

t.test('--port: listens on the given port', async (t) => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const { child, url } = await serve(t, ['--port', String(port), '--quiet']);
  t.equal(url, `ws://127.0.0.1:${port}/`);
  const ws = await connect(url, { keepAliveInterval: 0 });
  ws.send('on my port');
  t.equal(String((await once(ws, 'message'))[0]), 'on my port');
  ws.terminate();
  await stop(child);
});

t.test('--host: the address is passed to listen (a non-local one fails with exit 1)', async (t) => {
  const { child, url } = await serve(t, ['--port', '0', '--host', '127.0.0.1', '--quiet']);
  t.match(url, /^ws:\/\/127\.0\.0\.1:/);
  await stop(child);
  // 192.0.2.1 (TEST-NET-1) is not an address of this machine: binding must fail.
  const bad = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--host', '192.0.2.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  bad.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const [code] = await once(bad, 'exit');
  t.equal(code, 1);
  t.match(err, /EADDRNOTAVAIL|192\.0\.2\.1/);
});

t.test('--path (repeatable): listed paths accepted, others 404', async (t) => {
  const { child, url } = await serve(t, ['--port', '0', '--path', '/echo', '--path', '/chat', '--quiet']);
  t.match(url, /\/echo$/, 'the printed URL uses the first path');
  const base = url.replace(/\/echo$/, '');
  for (const p of ['/echo', '/chat']) {
    const ws = await connect(`${base}${p}`, { keepAliveInterval: 0 });
    ws.terminate();
  }
  const missing = await failure(connect(`${base}/other`, { keepAliveInterval: 0 }));
  t.equal(missing.status, 404);
  await stop(child);
});

t.test('--max-payload: a larger message is refused with 1009, one of the limit is echoed', async (t) => {
  const { child, url } = await serve(t, ['--port', '0', '--max-payload', '10', '--no-deflate', '--quiet']);
  const ws = await connect(url, { keepAliveInterval: 0 });
  ws.send('0123456789');
  t.equal(String((await once(ws, 'message'))[0]), '0123456789');
  const closed = once(ws, 'close');
  ws.send('0123456789A');
  const [code] = await closed;
  t.equal(code, 1009);
  await stop(child);
});

t.test('--keepalive <seconds>: pings every interval; a silent peer is dropped', async (t) => {
  const { child, url } = await serve(t, ['--port', '0', '--keepalive', '1', '--quiet']);
  const ws = await connect(url, { keepAliveInterval: 0 });
  const [payload] = await once(ws, 'ping');
  t.equal((payload as Buffer).length, 0, 'a keepalive ping arrived');
  ws.terminate();
  // A raw peer that completes the handshake and then never sends a byte (no pong).
  const port = Number(new URL(url).port);
  const peer = await RawPeer.connect(port);
  await peer.write(upgradeRequest());
  await peer.readHead();
  const received = await peer.whenClosed();
  t.ok(peer.closed, 'the server dropped the silent peer');
  t.ok(received.includes(Buffer.from([0x89, 0x00])), 'after pinging it');
  await stop(child);
});
