/** Minimal `--name value` / `--name=value` parsing for the conformance scripts. */
export function parseArgs(argv: string[], defaults: Record<string, string>): Record<string, string> {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (!(name in defaults)) throw new Error(`unknown option --${name} (known: ${Object.keys(defaults).map((k) => `--${k}`).join(', ')})`);
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    out[name] = value;
  }
  return out;
}
