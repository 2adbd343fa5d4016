// A non-Node HTTP/2 stack as the client: python-h2 (Debian python3-h2) speaks RFC 8441 to our
// server over h2c with prior knowledge (test/fixtures/python-h2/ws_client.py), and prints what
// it received; the summary is compared byte for byte.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { WebSocketServer } from '../../lib/server/server.js';
import type { UpgradeRequest } from '../../lib/handshake/request.js';
import { closeOf } from './helpers.js';

// Debian's interpreter: a `python3` on PATH may be a pyenv shim without the system's modules.
const PYTHON = '/usr/bin/python3';
const NO_H2 = `python-h2 is not importable by ${PYTHON}: install the Debian package \`python3-h2\` (apt-get install -y python3-h2; .ci/run does)`;

const here = dirname(fileURLToPath(import.meta.url));
/** Compiled tests live in dist/; the script stays in the source tree. */
function findScript(): string {
  for (let d = here; d !== dirname(d); d = dirname(d)) {
    const f = join(d, 'test', 'fixtures', 'python-h2', 'ws_client.py');
    if (existsSync(join(d, 'package.json')) && existsSync(f)) return f;
  }
  throw new Error('test/fixtures/python-h2/ws_client.py not found above ' + here);
}

const hasH2 = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import h2.connection'], { stdio: 'ignore' }).status === 0;

t.test('python-h2 client: SETTINGS, extended CONNECT, a masked text frame echoed, closing handshake', { skip: hasH2 ? false : NO_H2 }, async (t) => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', http2: true, path: '/ws', protocols: ['echo.v1'], keepAliveInterval: 0 });
  const seen: UpgradeRequest[] = [];
  const closes: Array<Promise<{ code: number; reason: string; wasClean: boolean }>> = [];
  server.on('connection', (ws, req) => {
    seen.push(req);
    closes.push(closeOf(ws));
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const { port } = await server.listen();
  t.teardown(() => server.close(500));

  const out = await new Promise<string>((resolve, reject) => {
    const child = execFile(PYTHON, [findScript(), String(port), '/ws?from=python'], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ws_client.py failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    t.teardown(() => child.kill());
  });
  t.equal(
    out,
    '{"bytes_after_close": 0, ' +
      '"close": {"code": 1000, "masked": false, "opcode": 8, "reason": ""}, ' +
      '"echo": {"fin": 1, "masked": false, "opcode": 1, "text": "hello from python-h2 \\u00e9\\u20ac"}, ' +
      '"sec_websocket_accept": null, "sec_websocket_protocol": "echo.v1", ' +
      '"settings_enable_connect_protocol": 1, "status": "200", ' +
      '"stream_end": ["END_STREAM", "RST_STREAM 0"]}\n',
    'python-h2 saw: ENABLE_CONNECT_PROTOCOL 1, :status 200, our subprotocol, an unmasked text echo, close 1000 echoed (code only), END_STREAM then RST_STREAM(NO_ERROR)',
  );
  t.equal(seen.length, 1);
  t.equal(seen[0]!.httpVersion, '2.0', "server side: req.httpVersion '2.0'");
  t.equal(seen[0]!.method, 'CONNECT');
  t.equal(seen[0]!.url, '/ws?from=python');
  t.same(await closes[0], { code: 1000, reason: 'done', wasClean: true }, 'server side: the client’s close code and reason, a clean close');
});
