// Importing 'rfcws' does not load node:http2, node:tls or node:zlib: they cost every process that
// imports the library startup RSS (bench/RESULTS.md, "Streams analysis") and are loaded on first use,
// when a server or client speaks HTTP/2 or TLS or permessage-deflate is negotiated.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { projectRoot } from './helpers.js';

const LAZY = ['http2', 'tls', 'zlib'];

/** The built-in modules a fresh Node has loaded after running `code` (an ES module). */
function loadedAfter(code: string): string[] {
  const probe = `${code}\nconsole.log(JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13))));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' })) as string[];
}

const index = pathToFileURL(join(projectRoot(), 'dist', 'lib', 'index.js')).href;

t.test('import of the library loads none of node:http2, node:tls, node:zlib', async (t) => {
  const bare = loadedAfter('');
  for (const m of LAZY) t.notOk(bare.includes(m), `a bare Node has not loaded ${m} (else this test could not fail)`);
  const loaded = loadedAfter(`await import(${JSON.stringify(index)});`);
  t.ok(loaded.includes('net'), 'the probe sees what the library does load (node:net)');
  for (const m of LAZY) t.notOk(loaded.includes(m), `node:${m} is not loaded at import`);
});

t.test('a permessage-deflate connection loads node:zlib on first use', async (t) => {
  const loaded = loadedAfter(`
    const { WebSocketServer, connect } = await import(${JSON.stringify(index)});
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
    const { port } = await wss.listen();
    wss.once('connection', (ws) => ws.on('message', (d) => ws.send(d)));
    const ws = await connect('ws://127.0.0.1:' + port + '/', { perMessageDeflate: true });
    ws.send('x'.repeat(2000));
    await new Promise((resolve) => ws.once('message', resolve));
    ws.terminate();
    await wss.close();`);
  t.ok(loaded.includes('zlib'), 'node:zlib is loaded once deflate is used');
});
