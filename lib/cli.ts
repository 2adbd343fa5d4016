#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { WebSocketServer } from './server.js';
import { connect } from './client.js';
import type { WebSocket } from './websocket.js';

const USAGE = `Usage:
  rfcws serve [options]          run an echo server
    --port <n>                   port to listen on (default 8080)
    --host <addr>                address to bind (default 127.0.0.1)
    --path <path>                accept upgrades only on this path (repeatable; default: any)
    --max-payload <bytes>        largest message accepted (default 64 MiB)
    --keepalive <seconds>        ping interval; a silent peer is dropped after as long again (0 = off; default 30)
    --no-deflate                 do not negotiate permessage-deflate (on by default)
    --quiet                      do not log connections

  rfcws connect <url> [options]  interactive client: each line of stdin is sent as a text message
    -H, --header "Name: value"   extra request header (repeatable)
    -s, --subprotocol <name>     offer a subprotocol (repeatable)
    -o, --origin <origin>        Origin header
    --no-deflate                 do not offer permessage-deflate
    --insecure                   do not verify the server's TLS certificate (wss://)
    --max-payload <bytes>        largest message accepted
`;

function fail(message: string): never {
  process.stderr.write(`rfcws: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function intOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) fail(`${name} takes a non-negative whole number (got "${value}")`);
  return n;
}

function describe(ws: WebSocket): string {
  return `${ws.remoteAddress ?? '?'}:${ws.remotePort ?? '?'}`;
}

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      path: { type: 'string', multiple: true },
      'max-payload': { type: 'string' },
      keepalive: { type: 'string' },
      'no-deflate': { type: 'boolean' },
      quiet: { type: 'boolean' },
    },
    strict: true,
  });
  const keepAliveSeconds = intOption(values.keepalive, '--keepalive', 30);
  const log = values.quiet ? () => {} : (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  const server = new WebSocketServer({
    port: intOption(values.port, '--port', 8080),
    host: values.host ?? '127.0.0.1',
    path: values.path,
    maxPayload: values['max-payload'] === undefined ? undefined : intOption(values['max-payload'], '--max-payload', 0),
    keepAliveInterval: keepAliveSeconds * 1000,
    keepAliveTimeout: keepAliveSeconds * 1000,
    perMessageDeflate: !values['no-deflate'],
  });
  server.on('connection', (ws: WebSocket) => {
    const who = describe(ws);
    log(`open  ${who}${ws.protocol ? ` protocol=${ws.protocol}` : ''}${ws.extensions ? ` extensions="${ws.extensions}"` : ''}`);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      ws.send(data, { binary: isBinary });
    });
    ws.on('error', (err: Error) => log(`error ${who} ${(err as { code?: string }).code ?? ''} ${err.message}`));
    ws.on('close', (code: number, reason: string, wasClean: boolean) => {
      log(`close ${who} code=${code}${reason ? ` reason="${reason}"` : ''} clean=${wasClean}`);
    });
  });
  server.on('error', (err: Error) => log(`server error: ${err.message}`));
  const address = await server.listen();
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `ws://${host}:${address.port}${values.path?.[0] ?? '/'}`;
  console.log(`Echo server listening on ${url}`);
  console.log(`Try it: node dist/lib/cli.js connect ${url}   (or: npx rfcws connect ${url})`);
  const stop = (): void => {
    console.log('Shutting down: closing every connection with 1001 Going Away');
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function connectCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      header: { type: 'string', short: 'H', multiple: true },
      subprotocol: { type: 'string', short: 's', multiple: true },
      origin: { type: 'string', short: 'o' },
      'no-deflate': { type: 'boolean' },
      insecure: { type: 'boolean' },
      'max-payload': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const url = positionals[0];
  if (url === undefined) fail('connect needs a URL, e.g. ws://127.0.0.1:8080/');
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) fail(`--header takes "Name: value" (got "${h}")`);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  let ws: WebSocket;
  try {
    ws = await connect(url, {
      headers,
      protocols: values.subprotocol,
      origin: values.origin,
      perMessageDeflate: !values['no-deflate'],
      maxPayload: values['max-payload'] === undefined ? undefined : intOption(values['max-payload'], '--max-payload', 0),
      tls: values.insecure ? { rejectUnauthorized: false } : undefined,
    });
  } catch (err) {
    const e = err as { message: string; code?: string; status?: number; body?: Buffer };
    process.stderr.write(`connect failed: ${e.code ?? ''} ${e.message}\n`);
    if (e.body && e.body.length > 0) process.stderr.write(`response body: ${e.body.toString('utf8')}\n`);
    process.exit(1);
  }
  process.stderr.write(`connected to ${url}${ws.protocol ? ` (protocol ${ws.protocol})` : ''}${ws.extensions ? ` (extensions ${ws.extensions})` : ''}; type a line to send it, Ctrl-D to close\n`);
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    process.stdout.write(isBinary ? `< <binary ${data.length} bytes: ${data.subarray(0, 32).toString('hex')}${data.length > 32 ? '…' : ''}>\n` : `< ${data.toString('utf8')}\n`);
  });
  ws.on('error', (err: Error) => process.stderr.write(`error: ${err.message}\n`));
  ws.on('close', (code: number, reason: string, wasClean: boolean) => {
    process.stderr.write(`closed: code=${code}${reason ? ` reason="${reason}"` : ''} clean=${wasClean}\n`);
    process.exit(wasClean ? 0 : 1);
  });
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => {
    if (ws.readyState === ws.OPEN) ws.send(line);
  });
  rl.on('close', () => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
  });
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  try {
    if (command === 'serve') await serve(rest);
    else if (command === 'connect') await connectCommand(rest);
    else if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(USAGE);
    } else fail(`unknown command "${command}"`);
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') fail(e.message);
    process.stderr.write(`rfcws: ${e.message}\n`);
    process.exit(1);
  }
}

void main();
