// Argument parsing shared by the subcommands: node:util's parseArgs, with its errors turned
// into one line that names the option and points at --help (exit 2 is decided by the caller).
import { readFileSync } from 'node:fs';

/** A mistake on the command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  /** The subcommand whose --help to point at ('' for the top level). */
  readonly command: string;
  constructor(command: string, message: string) {
    super(message);
    this.command = command;
  }
}

/**
 * Runs `run` (a strict parseArgs call) and allows at most `maxPositionals` positionals. Every parse
 * error becomes a UsageError whose message is short (Node's own messages run over several clauses).
 */
export function parse<T extends { positionals: string[] }>(command: string, run: () => T, maxPositionals: number): T {
  let parsed: T;
  try {
    parsed = run();
  } catch (err) {
    const e = err as { code?: string; message: string };
    const quoted = /'([^']*)'/.exec(e.message)?.[1] ?? '';
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(command, `unknown option ${quoted}`);
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      // "Option '-x, --execute <value>' argument missing" or "Option '--quiet' does not take an argument"
      const name = quoted.replace(/ <value>$/, '');
      if (/missing/.test(e.message)) throw new UsageError(command, `${name} needs a value`);
      if (/ambiguous/.test(e.message)) throw new UsageError(command, `${name} needs a value (for one that starts with "-", write ${name}=VALUE)`);
      throw new UsageError(command, `${name} takes no value`);
    }
    throw new UsageError(command, e.message);
  }
  if (parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals[maxPositionals]!;
    throw new UsageError(command, `unexpected argument "${extra}"`);
  }
  return parsed;
}

/** A whole number in [min, max], or `fallback` when the option was not given. */
export function intOption(command: string, name: string, value: string | undefined, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? (min === 0 ? 'a non-negative whole number' : `a whole number >= ${min}`) : `a whole number from ${min} to ${max}`;
    throw new UsageError(command, `${name} takes ${range} (got "${value}")`);
  }
  return n;
}

/** The contents of `file`, named by the option that gave it; an Error that says which otherwise. */
export function readFileFor(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${flag} ${file}: ${(err as Error).message}`);
  }
}

/** Whether to colour output: a terminal, and no NO_COLOR (https://no-color.org). */
export function useColour(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && !process.env.NO_COLOR;
}

export type Paint = (code: string, text: string) => string;
export const paint = (enabled: boolean): Paint => (enabled ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text);
