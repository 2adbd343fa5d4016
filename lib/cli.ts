#!/usr/bin/env node
// The `rfcws` command: dispatches to lib/cli/serve.ts and lib/cli/connect.ts. Usage errors are one
// line on stderr and exit 2; runtime failures one line and exit 1.
import { readFileSync } from 'node:fs';
import { UsageError } from './cli/args.js';
import { connectCommand, CONNECT_USAGE } from './cli/connect.js';
import { serve, SERVE_USAGE } from './cli/serve.js';

const USAGE = `Usage: rfcws <command> [options]

Commands:
  serve            run an echo (or --broadcast) server            rfcws serve --help
  connect <url>    talk to a server: a prompt on a terminal, a    rfcws connect --help
                   pipe otherwise (like wscat and websocat)

Options:
  -h, --help       print this help (rfcws help <command>: that command's)
  --version        print the version
`;

function version(): string {
  // dist/lib/cli.js -> the package root's package.json, in a checkout and when installed.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'connect':
      return connectCommand(rest);
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE);
      return;
    case 'help': {
      const topic = rest[0];
      if (topic === 'serve') process.stdout.write(SERVE_USAGE);
      else if (topic === 'connect') process.stdout.write(CONNECT_USAGE);
      else if (topic === undefined) process.stdout.write(USAGE);
      else throw new UsageError('', `no help on "${topic}": the commands are serve and connect`);
      return;
    }
    case '--version':
      process.stdout.write(`${version()}\n`);
      return;
    default:
      throw new UsageError('', command.startsWith('-') ? `unknown option ${command}` : `unknown command "${command}": the commands are serve and connect`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    const help = err.command ? `rfcws ${err.command} --help` : 'rfcws --help';
    process.stderr.write(`rfcws${err.command ? ` ${err.command}` : ''}: ${err.message} (see ${help})\n`);
    process.exit(2);
  }
  process.stderr.write(`rfcws: ${(err as Error).message}\n`);
  process.exit(1);
});
