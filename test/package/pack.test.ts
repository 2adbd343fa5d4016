// What a package user meets: the tarball `npm pack` makes from the built tree,
// installed offline into a fresh project, then loaded by child Node processes
// with import and with require, and checked for source maps that point nowhere.
// Packs with --ignore-scripts: the tree is already built (`npm test` builds
// first), and `prepare` would rebuild everything.
import t from 'tap';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, npmEnv, projectRoot, run, tempDir } from './helpers.js';

const ROOT = projectRoot();
const work = tempDir(t, 'rfcws-pack-');
const env = npmEnv(join(work, 'npm-cache'));

function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, base));
    else out.push(relative(base, p).split(sep).join('/'));
  }
  return out;
}

if (!existsSync(join(ROOT, 'dist/lib/index.js'))) throw new Error(`${ROOT}/dist/lib is not built: run npm run build first`);

const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, env });
if (packed.code !== 0) throw new Error(`npm pack failed: ${describe(packed)}`);
const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
const tarball = join(work, info.filename);

const consumer = join(work, 'consumer');
mkdirSync(consumer);
writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
const installed = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: consumer, env });
if (installed.code !== 0) throw new Error(`npm install of the tarball failed: ${describe(installed)}`);
const PKG = join(consumer, 'node_modules', 'rfcws');
// What the built lib/index.js exports, name and typeof, for the child processes to match.
const expectedKinds: Record<string, string> = {};
for (const [k, v] of Object.entries(await import(pathToFileURL(join(ROOT, 'dist/lib/index.js')).href))) expectedKinds[k] = typeof v;

t.test('the tarball holds the build of lib/, the lib/ sources its source maps name, README and package.json', async (t) => {
  const sources = walk(join(ROOT, 'lib')).filter((p) => p.endsWith('.ts'));
  t.ok(sources.includes('index.ts') && sources.includes('cli.ts'));
  const expected = new Set(['README.md', 'package.json']);
  for (const name of ['LICENSE', 'LICENSE.md', 'LICENSE.txt']) if (existsSync(join(ROOT, name))) expected.add(name);
  for (const src of sources) {
    const stem = src.slice(0, -'.ts'.length);
    for (const p of [`lib/${src}`, `dist/lib/${stem}.js`, `dist/lib/${stem}.js.map`, `dist/lib/${stem}.d.ts`]) expected.add(p);
  }
  const files = info.files.map((f) => f.path);
  t.same(
    files.filter((p) => !expected.has(p)).sort(),
    [],
    'nothing else ships (a file of dist/lib without a source in lib/ is a stale build: npm run build starts from an empty dist/)',
  );
  t.same([...expected].filter((p) => !files.includes(p)).sort(), [], 'everything a user needs ships');
  t.same(walk(PKG).sort(), [...files].sort(), 'npm install unpacks exactly those files');
});

t.test('no shipped .js has a sourceMappingURL to a file that is not shipped, and every map source ships', async (t) => {
  const problems: string[] = [];
  const inside = (p: string): boolean => p.startsWith(PKG + sep) && existsSync(p);
  let maps = 0;
  for (const file of walk(PKG).filter((p) => p.endsWith('.js'))) {
    const js = join(PKG, file);
    const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(js, 'utf8'))?.[1];
    if (url === undefined) continue;
    let map: { sources: string[]; sourcesContent?: (string | null)[]; sourceRoot?: string };
    let mapDir = dirname(js);
    if (url.startsWith('data:')) {
      map = JSON.parse(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64').toString());
    } else {
      const mapFile = resolve(dirname(js), decodeURIComponent(url));
      if (!inside(mapFile)) {
        problems.push(`${file}: sourceMappingURL ${url} is not in the package`);
        continue;
      }
      map = JSON.parse(readFileSync(mapFile, 'utf8'));
      mapDir = dirname(mapFile);
    }
    maps++;
    map.sources.forEach((source, i) => {
      if (typeof map.sourcesContent?.[i] === 'string') return;
      const p = resolve(mapDir, map.sourceRoot ?? '', source);
      if (!inside(p)) problems.push(`${file}: its map names ${source}, which is not in the package`);
    });
  }
  t.ok(maps > 0, 'the build has source maps (stack traces under --enable-source-maps)');
  t.same(problems, []);
});

// The same checks for both loaders: the exports, one copy of the code whichever
// loader ran first, and an echo over 127.0.0.1 through the installed package.
const CHECK = `
async function check(m, other) {
  const { WebSocketServer, connect } = m;
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const { port } = await server.listen();
  const ws = await connect('ws://127.0.0.1:' + port + '/');
  ws.send('echo me');
  let echo;
  for await (const { data } of ws) {
    echo = data.toString();
    ws.close(1000);
  }
  await server.close();
  const kinds = {};
  for (const k of Object.keys(m)) kinds[k] = typeof m[k];
  console.log(JSON.stringify({ kinds, echo, sameCopy: m.WebSocketServer === other.WebSocketServer && m.WebSocketError === other.WebSocketError }));
}
`;
const LOADERS = {
  import: { file: 'check.mjs', text: `${CHECK}\nconst m = await import('rfcws');\nconst { createRequire } = await import('node:module');\nawait check(m, createRequire(import.meta.url)('rfcws'));\n` },
  require: { file: 'check.cjs', text: `${CHECK}\nconst m = require('rfcws');\nimport('rfcws').then((other) => check(m, other)).catch((err) => { console.error(err); process.exit(1); });\n` },
};

for (const [loader, { file, text }] of Object.entries(LOADERS)) {
  t.test(`${loader}('rfcws') from the installed package: every export of lib/index.ts, and a working echo`, async (t) => {
    writeFileSync(join(consumer, file), text);
    const r = await run(process.execPath, [file], { cwd: consumer, timeoutMs: 15_000 });
    t.equal(r.code, 0, describe(r));
    if (r.code !== 0) return;
    const out = JSON.parse(r.stdout) as { kinds: Record<string, string>; echo: string; sameCopy: boolean };
    t.same(out.kinds, expectedKinds, 'the same exports as the built lib/index.js');
    for (const name of ['WebSocketServer', 'WebSocket', 'WebSocketError', 'HandshakeError', 'ProtocolError']) t.equal(out.kinds[name], 'function', name);
    t.equal(out.kinds.connect, 'function', 'connect');
    t.equal(out.echo, 'echo me');
    t.ok(out.sameCopy, 'import and require load one copy of the code (no dual-package hazard)');
  });
}

// What the built lib/web/index.js exports, for the subpath check below.
const expectedWebKinds: Record<string, string> = {};
for (const [k, v] of Object.entries(await import(pathToFileURL(join(ROOT, 'dist/lib/web/index.js')).href))) expectedWebKinds[k] = typeof v;
const WEB_CHECK = `
async function check(web, root) {
  const server = new root.WebSocketServer({ port: 0, host: '127.0.0.1' });
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const { port } = await server.listen();
  const ws = new web.WebSocket('http://127.0.0.1:' + port + '/');
  const events = [];
  ws.onopen = () => ws.send('echo me');
  ws.onmessage = (e) => { events.push(e.data); ws.close(1000); };
  await new Promise((r) => (ws.onclose = (e) => { events.push(e.code); r(); }));
  await server.close();
  const kinds = {};
  for (const k of Object.keys(web)) kinds[k] = typeof web[k];
  console.log(JSON.stringify({ kinds, events }));
}
`;
const WEB_LOADERS = {
  import: { file: 'web.mjs', text: `${WEB_CHECK}\nawait check(await import('rfcws/web'), await import('rfcws'));\n` },
  require: { file: 'web.cjs', text: `${WEB_CHECK}\ncheck(require('rfcws/web'), require('rfcws')).catch((err) => { console.error(err); process.exit(1); });\n` },
};

for (const [loader, { file, text }] of Object.entries(WEB_LOADERS)) {
  t.test(`${loader}('rfcws/web') from the installed package: every export of lib/web/index.ts, and a browser-style echo`, async (t) => {
    writeFileSync(join(consumer, file), text);
    const r = await run(process.execPath, [file], { cwd: consumer, timeoutMs: 15_000 });
    t.equal(r.code, 0, describe(r));
    if (r.code !== 0) return;
    const out = JSON.parse(r.stdout) as { kinds: Record<string, string>; events: unknown[] };
    t.same(out.kinds, expectedWebKinds, 'the same exports as the built lib/web/index.js');
    for (const name of ['WebSocket', 'WebSocketStream', 'WebSocketError', 'CloseEvent', 'ErrorEvent', 'MessageEvent']) t.equal(out.kinds[name], 'function', name);
    t.same(out.events, ['echo me', 1000]);
  });
}

t.test('engines admits this Node, which loads ES modules through require()', async (t) => {
  const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  t.equal(pkg.engines.node, '^20.19.0 || >=22.12.0');
  const admitted = (major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major > 22;
  if (!admitted) t.pass('require(esm) without a flag', { skip: `Node ${process.versions.node} is outside engines; the require() test above says what it does` });
  else t.equal((process.features as { require_module?: boolean }).require_module, true, 'require(esm) is on without a flag');
});

t.test('the rfcws bin is installed and runs', async (t) => {
  const r = await run(join(consumer, 'node_modules', '.bin', 'rfcws'), ['--help'], { cwd: consumer });
  t.equal(r.code, 0, describe(r));
  t.match(r.stdout, /rfcws serve/);
});

t.test('TypeScript finds the declarations through exports, from an ES module and from a CommonJS module', async (t) => {
  writeFileSync(
    join(consumer, 'esm.mts'),
    `import { WebSocketServer, connect, type WebSocket } from 'rfcws';\nimport { WebSocket as BrowserWebSocket, WebSocketStream } from 'rfcws/web';\nconst s: WebSocketServer = new WebSocketServer({ port: 0 });\nconst p: Promise<WebSocket> = connect('ws://127.0.0.1:1/');\nconst b: BrowserWebSocket = new BrowserWebSocket('ws://127.0.0.1:1/', { headers: { 'x-a': '1' } });\nconst w: WebSocketStream = new WebSocketStream('ws://127.0.0.1:1/');\nexport { s, p, b, w };\n`,
  );
  writeFileSync(
    join(consumer, 'cjs.cts'),
    `import rfcws = require('rfcws');\nimport web = require('rfcws/web');\nconst b: web.WebSocket = new web.WebSocket('ws://127.0.0.1:1/');\nconst s: rfcws.WebSocketServer = new rfcws.WebSocketServer({ port: 0 });\nconst p: Promise<rfcws.WebSocket> = rfcws.connect('ws://127.0.0.1:1/');\nexport { s, p, b };\n`,
  );
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        strict: true,
        noEmit: true,
        // Checking all of @types/node would take most of this file's time; resolution and the uses below are still checked.
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: ['esm.mts', 'cjs.cts'],
    }),
  );
  const r = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: consumer });
  t.equal(r.code, 0, describe(r));
});
