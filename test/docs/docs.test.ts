// Keeps docs/ true to the code, without a network or a TypeDoc run:
// - every relative link (and #anchor) in docs/*.md and README.md points to a file (and heading) that exists;
// - every ```ts / ```js block in docs/*.md (and README.md) that imports 'rfcws' imports only names
//   that lib/index.ts exports (in ```js blocks: only value exports, since a type does not exist at run time);
// - docs/README.md links every guide.
import t from 'tap';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { projectRoot } from '../package/helpers.js';

const ROOT = projectRoot();
const DOCS = join(ROOT, 'docs');

/** The fenced code blocks of a Markdown text, with their info-string language. */
function codeBlocks(markdown: string): { lang: string; code: string; line: number }[] {
  const out: { lang: string; code: string; line: number }[] = [];
  const fence = /^```([^\n`]*)\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m = fence.exec(markdown); m !== null; m = fence.exec(markdown)) {
    out.push({ lang: m[1]!.trim().split(/\s+/)[0] ?? '', code: m[2]!, line: markdown.slice(0, m.index).split('\n').length });
  }
  return out;
}

/** The text outside fenced blocks and inline code spans, where a link is a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```[ \t]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Link targets: inline `[text](target)`, images, and reference definitions `[id]: target`. */
export function linkTargets(markdown: string): string[] {
  const text = prose(markdown);
  const targets: string[] = [];
  for (const m of text.matchAll(/!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
  for (const m of text.matchAll(/^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) targets.push(m[1]!);
  return targets;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to '-', repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^```[^\n]*\n[\s\S]*?^```[ \t]*$/gm, '');
  for (const m of withoutCode.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const text = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const base = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Problems with the relative links of one Markdown file (empty when all resolve). */
function brokenLinks(file: string): string[] {
  const markdown = readFileSync(file, 'utf8');
  const broken: string[] = [];
  for (const target of linkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, ...: not checked offline
    const hash = target.indexOf('#');
    const pathPart = decodeURI(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? '' : target.slice(hash + 1);
    const dest = pathPart === '' ? file : resolve(dirname(file), pathPart);
    if (!existsSync(dest)) {
      broken.push(`${target}: no such file ${relative(ROOT, dest)}`);
      continue;
    }
    if (anchor !== '' && dest.endsWith('.md') && statSync(dest).isFile() && !headingAnchors(readFileSync(dest, 'utf8')).has(anchor)) {
      broken.push(`${target}: ${relative(ROOT, dest)} has no heading #${anchor}`);
    }
  }
  return broken;
}

/** Names a module exports, split into values and type-only names. */
function exportsOf(file: string): { values: Set<string>; types: Set<string> } {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const values = new Set<string>();
  const types = new Set<string>();
  for (const stmt of source.statements) {
    if (ts.isExportDeclaration(stmt) && stmt.exportClause !== undefined && ts.isNamedExports(stmt.exportClause)) {
      for (const spec of stmt.exportClause.elements) (stmt.isTypeOnly || spec.isTypeOnly ? types : values).add(spec.name.text);
      continue;
    }
    const exported = ts.canHaveModifiers(stmt) && ts.getModifiers(stmt)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!exported) continue;
    if (ts.isInterfaceDeclaration(stmt) || ts.isTypeAliasDeclaration(stmt)) types.add(stmt.name.text);
    else if ((ts.isClassDeclaration(stmt) || ts.isFunctionDeclaration(stmt) || ts.isEnumDeclaration(stmt)) && stmt.name) values.add(stmt.name.text);
    else if (ts.isVariableStatement(stmt)) {
      for (const d of stmt.declarationList.declarations) if (ts.isIdentifier(d.name)) values.add(d.name.text);
    }
  }
  return { values, types };
}

interface Imported {
  name: string;
  typeOnly: boolean;
}

/**
 * What a snippet takes from 'rfcws': named imports (`import { a, b as c, type T }`), and
 * destructured `require('rfcws')`. A default import or a namespace import is reported as the
 * name `default` / `*`, which the package does not export by name.
 */
export function importsFromRfcws(code: string): Imported[] {
  const source = ts.createSourceFile('snippet.ts', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: Imported[] = [];
  const isRfcws = (node: ts.Node | undefined): boolean => node !== undefined && ts.isStringLiteral(node) && node.text === 'rfcws';
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && isRfcws(node.moduleSpecifier)) {
      const clause = node.importClause;
      if (clause?.name) out.push({ name: 'default', typeOnly: clause.isTypeOnly });
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) out.push({ name: '*', typeOnly: clause!.isTypeOnly });
      if (bindings && ts.isNamedImports(bindings)) {
        for (const el of bindings.elements) out.push({ name: (el.propertyName ?? el.name).text, typeOnly: clause!.isTypeOnly || el.isTypeOnly });
      }
    } else if (
      ts.isVariableDeclaration(node) && node.initializer && ts.isCallExpression(node.initializer) &&
      ts.isIdentifier(node.initializer.expression) && node.initializer.expression.text === 'require' &&
      isRfcws(node.initializer.arguments[0])
    ) {
      if (ts.isObjectBindingPattern(node.name)) {
        for (const el of node.name.elements) {
          const key = el.propertyName ?? el.name;
          if (ts.isIdentifier(key)) out.push({ name: key.text, typeOnly: false });
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const guides = readdirSync(DOCS).filter((f) => f.endsWith('.md')).sort();
const markdownFiles = [...guides.map((f) => join(DOCS, f)), join(ROOT, 'README.md')];

t.test('the checks themselves catch what they should', async (t) => {
  t.same(linkTargets('[a](x.md) ![i](img.png "t") `[no](code.md)` [b](https://e.x) [c](#top)\n[ref]: y.md\n'), ['x.md', 'img.png', 'https://e.x', '#top', 'y.md']);
  t.same(linkTargets('```md\n[a](inside-a-fence.md)\n```\n'), [], 'links in code blocks are not links');
  t.ok(headingAnchors('### `new WebSocketServer(options)`\n').has('new-websocketserveroptions'));
  t.ok(headingAnchors('## Compression and secrets (CRIME, BREACH)\n').has('compression-and-secrets-crime-breach'));
  t.same([...headingAnchors('## A\n## A\n')], ['a', 'a-1']);
  t.same(importsFromRfcws("import { a, b as c, type T } from 'rfcws';\nimport { z } from 'other';"), [
    { name: 'a', typeOnly: false },
    { name: 'b', typeOnly: false },
    { name: 'T', typeOnly: true },
  ]);
  t.same(importsFromRfcws("import rfcws from 'rfcws';\nconst { connect: dial } = require('rfcws');"), [
    { name: 'default', typeOnly: false },
    { name: 'connect', typeOnly: false },
  ]);
});

t.test('every relative link in docs/*.md and README.md resolves', async (t) => {
  t.ok(guides.length > 1, 'docs/ has guides');
  for (const file of markdownFiles) t.same(brokenLinks(file), [], `${relative(ROOT, file)}: links resolve`);
});

t.test('docs/README.md links every guide', async (t) => {
  const index = linkTargets(readFileSync(join(DOCS, 'README.md'), 'utf8')).map((l) => l.split('#')[0]);
  for (const guide of guides.filter((g) => g !== 'README.md')) t.ok(index.includes(guide), `docs/README.md links ${guide}`);
});

t.test("code blocks import from 'rfcws' only what lib/index.ts exports", async (t) => {
  const { values, types } = exportsOf(join(ROOT, 'lib', 'index.ts'));
  t.ok(values.has('WebSocketServer') && values.has('connect') && types.has('ServerOptions'), 'the exports of lib/index.ts were read');
  let checked = 0;
  for (const file of markdownFiles) {
    const wrong: string[] = [];
    for (const block of codeBlocks(readFileSync(file, 'utf8'))) {
      const lang = block.lang.toLowerCase();
      const isTs = lang === 'ts' || lang === 'typescript';
      if (!isTs && lang !== 'js' && lang !== 'javascript') continue;
      for (const { name, typeOnly } of importsFromRfcws(block.code)) {
        checked++;
        const ok = values.has(name) || ((isTs || typeOnly) && types.has(name));
        if (!ok) {
          const why = types.has(name) ? 'a type, imported as a value in a js block' : 'not exported by lib/index.ts';
          wrong.push(`block at line ${block.line}: ${name} (${why})`);
        }
      }
    }
    t.same(wrong, [], `${relative(ROOT, file)}: imports exist`);
  }
  t.ok(checked > 10, `imports were found and checked (${checked})`);
});
