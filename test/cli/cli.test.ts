import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { connect, WebSocketServer, type WebSocket } from '../../lib/index.js';

const CLI = fileURLToPath(new URL('../../lib/cli.js', import.meta.url));

/** Resolves with the first stdout line matching `re`. */
function waitForLine(child: ChildProcess, re: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk: Buffer): void => {
      buf += chunk.toString();
      const m = buf.match(re);
      if (m) {
        child.stdout!.off('data', onData);
        resolve(m);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${re}: ${buf}`)));
  });
}

t.test('serve: an echo server that negotiates deflate and closes clients with 1001 on SIGTERM', async (t) => {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--keepalive', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [, url] = await waitForLine(child, /listening on (ws:\/\/\S+)/);
  const ws = await connect(url!, { perMessageDeflate: true, keepAliveInterval: 0 });
  t.equal(ws.extensions, 'permessage-deflate');
  ws.send('ping me back');
  const [data, isBinary] = await once(ws, 'message');
  t.equal(data.toString(), 'ping me back');
  t.equal(isBinary, false);
  const closed = once(ws, 'close');
  child.kill('SIGTERM');
  const [code, , wasClean] = await closed;
  t.equal(code, 1001);
  t.equal(wasClean, true);
  const [exitCode] = await once(child, 'exit');
  t.equal(exitCode, 0);
});

t.test('serve --no-deflate does not negotiate compression', async (t) => {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--no-deflate', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [, url] = await waitForLine(child, /listening on (ws:\/\/\S+)/);
  const ws = await connect(url!, { perMessageDeflate: true, keepAliveInterval: 0 });
  t.equal(ws.extensions, '');
  ws.terminate();
  child.kill('SIGTERM');
  await once(child, 'exit');
});

t.test('serve rejects an unknown option with usage and exit code 2', async (t) => {
  const child = spawn(process.execPath, [CLI, 'serve', '--bogus'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const [code] = await once(child, 'exit');
  t.equal(code, 2);
  t.match(err, /^rfcws serve: unknown option --bogus \(see rfcws serve --help\)\n$/);
});

t.test('connect: stdin lines go out as text, received messages are printed, EOF closes with 1000', async (t) => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', protocols: ['chat'], keepAliveInterval: 0 });
  const seen: { headers?: Record<string, string>; protocol?: string } = {};
  const serverClose = new Promise<unknown[]>((resolve) => {
    server.on('connection', (ws: WebSocket, req: { headers: Record<string, string> }) => {
      seen.headers = req.headers;
      seen.protocol = ws.protocol;
      ws.on('message', (data: Buffer) => ws.send(`echo:${data.toString()}`));
      ws.on('close', (...args: unknown[]) => resolve(args));
    });
  });
  const { port } = await server.listen();
  const child = spawn(process.execPath, [CLI, 'connect', `ws://127.0.0.1:${port}/`, '-H', 'X-Token: abc', '-s', 'chat', '-o', 'http://example.test'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const printed = waitForLine(child, /^echo:second$/m);
  child.stdin!.write('first\nsecond\n');
  await printed;
  child.stdin!.end();
  const [exitCode] = await once(child, 'exit');
  t.equal(exitCode, 0);
  t.same(await serverClose, [1000, '', true]);
  t.equal(seen.headers?.['x-token'], 'abc');
  t.equal(seen.headers?.origin, 'http://example.test');
  t.equal(seen.protocol, 'chat');
  await server.close();
});

t.test('connect reports a refused upgrade with its status and body, exit code 1', async (t) => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', allowedOrigins: ['https://good.test'] });
  const { port } = await server.listen();
  const child = spawn(process.execPath, [CLI, 'connect', `ws://127.0.0.1:${port}/`, '-o', 'https://evil.test'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const [exitCode] = await once(child, 'exit');
  t.equal(exitCode, 1);
  t.match(err, /403/);
  await server.close();
});
