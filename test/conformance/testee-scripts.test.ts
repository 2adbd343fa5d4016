// The Autobahn testee scripts themselves: conformance/server.js echoes (with
// permessage-deflate and room for 16 MiB+ messages), conformance/client.js walks the
// fuzzingserver protocol (getCaseCount, runCase for each case, updateReports).
import t from 'tap';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closePayload, OP, sframe } from '../helpers/frames.js';
import { PeerDeflater, PeerInflater } from './deflate.js';
import { dial, scriptedServer } from './peer.js';

const here = dirname(fileURLToPath(import.meta.url));
const serverJs = join(here, '..', '..', 'conformance', 'server.js');
const clientJs = join(here, '..', '..', 'conformance', 'client.js');

function run(script: string, args: string[]) {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => { out += c; });
  child.stderr.on('data', (c: Buffer) => { err += c; });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, stdout: () => out, stderr: () => err };
}

t.test('conformance server: echoes compressed and uncompressed, 16 MiB + 1 fits', async (t) => {
  const p = run(serverJs, ['--port', '0', '--host', '127.0.0.1']);
  t.teardown(() => { p.child.kill('SIGKILL'); });
  while (!/ws:\/\/127\.0\.0\.1:(\d+)/.test(p.stdout())) {
    if (p.child.exitCode !== null) throw new Error(`server exited: ${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const port = Number(/ws:\/\/127\.0\.0\.1:(\d+)/.exec(p.stdout())![1]);

  const hs = await dial(port, { extensions: 'permessage-deflate; client_max_window_bits' });
  t.equal(hs.status, 101);
  t.match(hs.headers['sec-websocket-extensions'], /^permessage-deflate/);
  const peer = hs.peer!;
  const d = new PeerDeflater();
  const i = new PeerInflater();
  await peer.send({ opcode: OP.TEXT, payload: await d.compress('hello testee'), rsv: 4 });
  const big = Buffer.alloc(16 * 1024 * 1024 + 1, 0x5a);
  await peer.send({ opcode: OP.BINARY, payload: big }, { chunk: 1 << 20 });
  await peer.waitEvents(2, 20_000);
  const [a, b] = peer.events;
  t.ok(a.kind === 'message' && !a.binary && a.compressed, 'text echoed compressed');
  t.equal(a.kind === 'message' && (await i.inflate(a.data)).toString(), 'hello testee');
  t.ok(b.kind === 'message' && b.binary, 'binary echoed');
  t.ok(b.kind === 'message' && (b.compressed ? await i.inflate(b.data) : b.data).equals(big), '16 MiB + 1 echoed intact');
  await peer.send({ opcode: OP.CLOSE, payload: closePayload(1000) });
  await peer.waitClose();
  t.equal(peer.close?.code, 1000);
  await peer.waitRemoteClosed();
  d.close();
  i.close();

  p.child.kill('SIGINT');
  t.equal(await p.exited, 0, 'stops cleanly on SIGINT');
});

t.test('conformance server: a bad option exits 2 with a message', async (t) => {
  const p = run(serverJs, ['--prot', '9001']);
  t.equal(await p.exited, 2);
  t.match(p.stderr(), /unknown option --prot/);
});

t.test('conformance client: speaks the fuzzingserver protocol', async (t) => {
  // Like the real fuzzingserver, the count and the first case message follow the 101 head
  // in the same write: the client must not lose them while connect() resolves.
  const fuzz = await scriptedServer((req) => {
    const path = req.requestLine.split(' ')[1];
    if (path === '/getCaseCount') return { after: sframe({ opcode: OP.TEXT, payload: '2' }) };
    if (path.startsWith('/runCase?case=1&')) {
      return { after: sframe({ opcode: OP.TEXT, payload: 'case one' }) };
    }
    return {};
  });
  t.teardown(() => fuzz.close());
  const p = run(clientJs, ['--url', `ws://127.0.0.1:${fuzz.port}`, '--agent', 'test agent']);
  t.teardown(() => { p.child.kill('SIGKILL'); });

  const paths: string[] = [];
  const next = async () => {
    const c = await fuzz.accept(10_000);
    paths.push(c.request.requestLine.split(' ')[1]);
    return c.peer;
  };
  const closeAndEnd = async (peer: Awaited<ReturnType<typeof next>>) => {
    await peer.send({ opcode: OP.CLOSE, payload: closePayload(1000) });
    await peer.waitClose();
    peer.end();
  };

  const count = await next();
  await closeAndEnd(count);

  const case1 = await next();
  await case1.send({ opcode: OP.PING, payload: 'p' });
  await case1.waitEvents(2);
  await closeAndEnd(case1);

  const case2 = await next();
  await case2.send({ opcode: OP.BINARY, payload: Buffer.from([1, 2, 3]) });
  await case2.waitEvents(1);
  await closeAndEnd(case2);

  const update = await next();
  await closeAndEnd(update);

  t.equal(await p.exited, 0, p.stderr());
  t.same(paths, ['/getCaseCount', '/runCase?case=1&agent=test%20agent', '/runCase?case=2&agent=test%20agent', '/updateReports?agent=test%20agent']);
  const summary = case1.events.map((e) => (e.kind === 'close' ? `close ${e.code}`
    : e.kind === 'message' ? `${e.binary ? 'binary' : 'text'} ${e.data}` : `${e.kind} ${e.data}`));
  // The echo and the automatic pong are independent; their order is not the point here.
  t.same(summary.slice(0, 2).sort(), ['pong p', 'text case one']);
  t.equal(summary[2], 'close 1000');
  t.ok(case2.events[0].kind === 'message' && case2.events[0].binary && case2.events[0].data.equals(Buffer.from([1, 2, 3])), 'binary echoed as binary');
  t.match(p.stdout(), /running 2 cases as agent "test agent"/);
});
