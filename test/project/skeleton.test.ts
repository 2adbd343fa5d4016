// Issue 2, skeleton: package.json shape, zero runtime dependencies (also in the
// source: lib/ imports only node: built-ins and its own files), strict tsconfig,
// the CLI bin, .ci/run, and the README's two commands.
import t from 'tap';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

const ROOT = projectRoot();
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

t.test('package.json: ES modules, Node 20.19+ or 22.12+, exports to the compiled output, a bin, no runtime dependencies', async (t) => {
  const pkg = JSON.parse(read('package.json'));
  t.equal(pkg.type, 'module');
  t.equal(pkg.engines?.node, '^20.19.0 || >=22.12.0', 'the Node versions that load ES modules through require()');
  t.same(pkg.dependencies ?? {}, {}, 'no runtime dependencies');
  t.same(pkg.optionalDependencies ?? {}, {});
  t.same(pkg.peerDependencies ?? {}, {});
  t.equal(pkg.exports?.['.']?.default, './dist/lib/index.js');
  t.equal(pkg.exports?.['.']?.types, './dist/lib/index.d.ts');
  t.equal(pkg.bin?.rfcws, './dist/lib/cli.js');
  t.ok(read('lib/cli.ts').startsWith('#!/usr/bin/env node\n'), 'the bin has a node shebang');
  for (const dev of ['tap', 'typescript', 'ws']) t.ok(pkg.devDependencies?.[dev], `dev dependency ${dev}`);
  t.match(pkg.scripts.test, /^tap/);
  t.match(pkg.scripts.pretest, /build/, 'npm test builds first');
});

t.test('lib/ imports only node: built-ins and relative .js files', async (t) => {
  const builtins = new Set(builtinModules);
  const bad: string[] = [];
  const files = tsFiles(join(ROOT, 'lib'));
  t.ok(files.length > 10);
  for (const file of files) {
    const src = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      const ok = spec.startsWith('node:') ? builtins.has(spec.slice(5)) : /^\.\.?\/.*\.js$/.test(spec);
      if (!ok) bad.push(`${relative(ROOT, file)}: ${spec}`);
    }
  }
  t.same(bad, [], 'no package imports in lib/');
});

t.test('tsconfig is strict; top-level layout and .ci/run', async (t) => {
  const tsconfig = JSON.parse(read('tsconfig.json'));
  t.equal(tsconfig.compilerOptions.strict, true);
  t.equal(tsconfig.compilerOptions.module, 'NodeNext');
  for (const dir of ['lib', 'test', 'bench', 'conformance']) t.ok(statSync(join(ROOT, dir)).isDirectory(), `${dir}/ exists`);
  accessSync(join(ROOT, '.ci/run'), constants.X_OK);
  const ci = read('.ci/run');
  t.match(ci, /\bnpm ci\b/, 'installs from the lockfile');
  t.match(ci, /\bnpm test\b/, 'runs npm test');
  t.ok(existsSync(join(ROOT, 'package-lock.json')), 'a lockfile exists');
});

t.test("README: the two set-up commands and what they do", async (t) => {
  const readme = read('README.md');
  t.match(readme, 'npm install && npm start');
  t.match(readme, /npm test\b/);
  t.match(readme, 'ws://127.0.0.1:8080');
  t.match(readme, /## Quick start/);
  t.match(readme, /## API/);
});
