// The layering of DESIGN.md as a test: imports only point down a layer (or within one),
// and there is no import cycle anywhere in lib/.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIB = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'lib');

/** Layers from the bottom up; a file's layer is its first matching prefix. */
const LAYERS: string[][] = [
  ['errors.ts'],
  ['protocol/'],
  ['http/'],
  ['extensions/'],
  ['handshake/'],
  ['transport/'],
  ['options.ts', 'timers.ts', 'expiry.ts', 'iterator.ts', 'incoming-stream.ts', 'outgoing-stream.ts'],
  ['websocket.ts'],
  ['streams.ts', 'pubsub/', 'resume/'],
  ['server/', 'client/'],
  ['web/', 'reconnect/'],
  ['index.ts'],
  ['cli.ts', 'cli/'],
];

function layerOf(file: string): number {
  const i = LAYERS.findIndex((prefixes) => prefixes.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p)));
  return i;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const files = walk(LIB).map((p) => relative(LIB, p).split('\\').join('/'));
const graph = new Map<string, string[]>();
for (const f of files) {
  const src = readFileSync(join(LIB, f), 'utf8');
  const deps: string[] = [];
  for (const m of src.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gm)) {
    deps.push(normalize(join(dirname(f), m[1]!)).split('\\').join('/').replace(/\.js$/, '.ts'));
  }
  graph.set(f, deps);
}

t.test('every lib file belongs to a layer', async (t) => {
  t.ok(files.length > 20, `found ${files.length} files`);
  for (const f of files) t.not(layerOf(f), -1, `${f} has a layer in DESIGN.md's picture`);
});

t.test('imports point down (or within a layer), never up', async (t) => {
  for (const [f, deps] of graph) {
    for (const d of deps) {
      t.ok(graph.has(d), `${f} imports ${d}, which exists`);
      t.ok(layerOf(d) <= layerOf(f), `${f} (layer ${layerOf(f)}) may import ${d} (layer ${layerOf(d)})`);
    }
  }
});

t.test('no import cycle', async (t) => {
  const state = new Map<string, 1 | 2>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]): void => {
    if (state.get(f) === 2) return;
    if (state.get(f) === 1) {
      cycles.push([...path.slice(path.indexOf(f)), f].join(' -> '));
      return;
    }
    state.set(f, 1);
    for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
    state.set(f, 2);
  };
  for (const f of graph.keys()) visit(f, []);
  t.same(cycles, [], 'no cycles');
});
