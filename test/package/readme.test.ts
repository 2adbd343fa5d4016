// The README's quick-start server and client, run as written against each other
// in two child processes. Each snippet is the code fence right after its
// `<!-- readme-snippet: NAME -->` marker. The only changes: the server listens
// on a free port of 127.0.0.1 (one appended line prints it) and the client dials
// that port instead of 8080; types are stripped so Node runs the TypeScript.
// `rfcws` resolves as it would for a user: through node_modules/rfcws (a link to
// this project) and its package.json exports.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, projectRoot, run, tempDir } from './helpers.js';

const ROOT = projectRoot();

/** The code of the fenced block right after `<!-- readme-snippet: name -->`; throws when there is none. */
function snippet(readme: string, name: string): string {
  const marker = `<!-- readme-snippet: ${name} -->`;
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no "${marker}" marker (test/package/readme.test.ts runs the snippet after it)`);
  if (readme.indexOf(marker, at + 1) >= 0) throw new Error(`README.md has "${marker}" twice`);
  const m = /^\s*```(?:ts|typescript|js|javascript)\n([\s\S]*?)\n```/.exec(readme.slice(at + marker.length));
  if (m === null) throw new Error(`README.md: "${marker}" is not followed by a ts/js code fence`);
  return m[1]!;
}

/** `text` with `from` replaced by `to`, which must occur exactly once. */
function replaceOnce(text: string, from: string, to: string, what: string): string {
  const parts = text.split(from);
  if (parts.length !== 2) throw new Error(`the ${what} snippet should contain "${from}" exactly once, found ${parts.length - 1}`);
  return parts.join(to);
}

const toJs = (code: string): string =>
  ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;

t.test('the quick-start client gets its echo from the quick-start server', async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const server = snippet(readme, 'server');
  const client = snippet(readme, 'client');
  t.match(server, /from 'rfcws'/, 'the server snippet imports the package');
  t.match(client, /from 'rfcws'/, 'the client snippet imports the package');

  const dir = tempDir(t, 'rfcws-readme-');
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'rfcws'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'readme-snippets', private: true, type: 'module' }));
  const serverCode = replaceOnce(server, 'port: 8080', "port: 0, host: '127.0.0.1'", 'server');
  writeFileSync(join(dir, 'server.js'), toJs(`${serverCode}\nconsole.log('listening on', server.address()!.port);\n`));

  const child = spawn(process.execPath, ['server.js'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server snippet did not listen within 10 s\n${out}\n${err}`)), 10_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server snippet exited (${code}) before listening\n${out}\n${err}`));
    });
  });

  writeFileSync(join(dir, 'client.js'), toJs(replaceOnce(client, ':8080/', `:${port}/`, 'client')));
  const r = await run(process.execPath, ['client.js'], { cwd: dir, timeoutMs: 10_000 });
  t.equal(r.code, 0, `the client snippet ends by itself\n${describe(r)}`);
  t.equal(r.stdout, 'hello\n', 'it prints the echo');
  t.equal(err, '', 'the server printed no error');
});
