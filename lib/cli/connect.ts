// `rfcws connect`: an interactive client on a terminal (a prompt, slash commands), a pipe
// otherwise (stdin lines out, one received message per stdout line), or one request with -x.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { connect, type ClientOptions } from '../client/client.js';
import { HandshakeError, InvalidArgumentError } from '../errors.js';
import type { WebSocket } from '../websocket.js';
import { intOption, paint, parse, readFileFor, useColour, UsageError, type Paint } from './args.js';
import { explainConnectError, refusedResponse } from './explain.js';
import { Prompt } from './prompt.js';
import { runLine } from './slash.js';

export const CONNECT_USAGE = `Usage: rfcws connect <url> [options]

Connects to a ws:// or wss:// URL. On a terminal: a prompt (> ) sends each line you type as a
text message and prints received ones apart (< ); slash commands below. Otherwise a pipe:
each stdin line is sent as a text message, the connection closes with 1000 when stdin ends,
and each received message is written to stdout on its own line (binary ones as hex).

Options:
  -x, --execute <msg>          send this text message (repeatable, in order), print the first
                               reply, close with 1000 and exit; stdin is not read
  --wait <ms>                  with -x: print every reply for this long instead of exiting
                               after the first; piped: wait this long after stdin ends
  -H, --header "Name: value"   extra request header (repeatable)
  -s, --subprotocol <name>     offer a subprotocol (repeatable, in preference order)
  -o, --origin <origin>        Origin header
  --show-headers               print the response's status line and headers (stderr); for a
                               refused upgrade, its body too
  --ca <file>                  trust this PEM certificate or CA (wss://), e.g. a self-signed one
  --cert <file>                client certificate (PEM) to present (wss://); needs --key
  --key <file>                 the PEM private key of --cert
  --insecure                   do not verify the server's TLS certificate (wss://)
  --handshake-timeout <ms>     give up if there is no upgrade response by then (default 10000)
  --proxy <url>                tunnel through this HTTP proxy (http://[user:pass@]host:port, or
                               https://); without it HTTPS_PROXY / HTTP_PROXY / NO_PROXY apply
  --no-proxy                   ignore the proxy environment variables
  --follow-redirects           follow 301/302/303/307/308 answers to the upgrade (at most 10)
  --http2                      WebSocket over HTTP/2 (RFC 8441); fails if the server does not offer it
  --http <1.1|2|auto>          HTTP version of the handshake (default 1.1); auto uses HTTP/2 where the
                               server offers it (wss://: ALPN h2 and the extended CONNECT setting)
  --max-payload <bytes>        largest message accepted (default 64 MiB)
  --no-deflate                 do not offer permessage-deflate (offered by default)
  --binary-out                 write each message's raw bytes to stdout, nothing added
  -h, --help                   print this help

At the prompt:
  /ping [data]                 send a ping; the pong is printed
  /close [code [reason]]       close with this code (default 1000) and reason
  /binary <hex | @file>        send a binary message: hex digits (spaces allowed) or a file
  /help                        list these commands
  //text                       send "/text" (a text message that starts with a slash)
Ctrl-D or Ctrl-C closes with 1000; a second Ctrl-C exits at once.

Exit status: 0 after a clean close, 1 when connecting fails or the connection drops, 2 for a
usage error.
`;


function preview(data: Buffer, isBinary: boolean): string {
  if (!isBinary) return data.toString('utf8');
  return `<binary ${data.length} bytes: ${data.subarray(0, 32).toString('hex')}${data.length > 32 ? '…' : ''}>`;
}

export async function connectCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    'connect',
    () =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
          execute: { type: 'string', short: 'x', multiple: true },
          wait: { type: 'string' },
          header: { type: 'string', short: 'H', multiple: true },
          subprotocol: { type: 'string', short: 's', multiple: true },
          origin: { type: 'string', short: 'o' },
          'show-headers': { type: 'boolean' },
          ca: { type: 'string' },
          cert: { type: 'string' },
          key: { type: 'string' },
          insecure: { type: 'boolean' },
          'handshake-timeout': { type: 'string' },
          proxy: { type: 'string' },
          'no-proxy': { type: 'boolean' },
          'follow-redirects': { type: 'boolean' },
          http2: { type: 'boolean' },
          http: { type: 'string' },
          'max-payload': { type: 'string' },
          'no-deflate': { type: 'boolean' },
          'binary-out': { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      }),
    1,
  );
  if (values.help) {
    process.stdout.write(CONNECT_USAGE);
    return;
  }
  const url = positionals[0];
  if (url === undefined) throw new UsageError('connect', 'missing the URL, e.g. rfcws connect ws://127.0.0.1:8080/');
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError('connect', `--header takes "Name: value" (got "${h}")`);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('connect', '--cert and --key go together');
  const waitMs = values.wait === undefined ? undefined : intOption('connect', '--wait', values.wait, 0);
  const handshakeTimeout = intOption('connect', '--handshake-timeout', values['handshake-timeout'], 10_000, 1);
  const maxPayload = values['max-payload'] === undefined ? undefined : intOption('connect', '--max-payload', values['max-payload'], 0, 1);
  if (values.http2 && values.http !== undefined) throw new UsageError('connect', '--http2 and --http are one choice: pass one of them');
  const http = values.http2 ? '2' : (values.http ?? '1.1');
  if (http !== '1.1' && http !== '2' && http !== 'auto') throw new UsageError('connect', `--http takes 1.1, 2 or auto (got "${http}")`);

  const tls: NonNullable<ClientOptions['tls']> = {};
  if (values.ca !== undefined) tls.ca = readFileFor('--ca', values.ca);
  if (values.cert !== undefined) {
    tls.cert = readFileFor('--cert', values.cert);
    tls.key = readFileFor('--key', values.key!);
  }
  if (values.insecure) tls.rejectUnauthorized = false;
  if (values.proxy !== undefined && values['no-proxy']) throw new UsageError('connect', '--proxy and --no-proxy are one choice: pass one of them');
  const proxy = values['no-proxy'] ? false : values.proxy;

  const execute = values.execute;
  const stdout = process.stdout;
  const interactive = execute === undefined && process.stdin.isTTY === true && stdout.isTTY === true;
  const c: Paint = paint(useColour(stdout));
  const prompt = interactive ? new Prompt(process.stdin, stdout) : null;
  // Until the prompt exists nothing is typed, so plain writes are fine before it.
  const info = (line: string): void => (prompt ? prompt.print(c('2', line), process.stderr) : void process.stderr.write(`${line}\n`));
  const problem = (line: string): void => (prompt ? prompt.print(c('31', line), process.stderr) : void process.stderr.write(`${line}\n`));

  let ws: WebSocket;
  try {
    ws = await connect(url, {
      headers,
      protocols: values.subprotocol,
      origin: values.origin,
      perMessageDeflate: !values['no-deflate'],
      handshakeTimeout,
      maxPayload,
      tls,
      http,
      proxy,
      followRedirects: values['follow-redirects'] === true,
    });
  } catch (err) {
    prompt?.close();
    // A bad URL, header or subprotocol is refused before dialling: a mistake on the command line.
    if (err instanceof InvalidArgumentError) {
      const bare = !url.includes('//') && /^[\w.-]+(:\d+)?(\/|$)/.test(url);
      throw new UsageError('connect', `${err.message}${bare ? ` (did you mean ws://${url}?)` : ''}`);
    }
    if (values['show-headers'] && err instanceof HandshakeError && err.status !== undefined) process.stderr.write(refusedResponse(err));
    process.stderr.write(`rfcws: ${explainConnectError(err, url)}\n`);
    process.exit(1);
  }

  if (values['show-headers'] && ws.handshake) {
    const { status, statusText, rawHeaders } = ws.handshake;
    let head = ws.httpVersion === '2' ? `HTTP/2 ${status}\n` : `HTTP/1.1 ${status} ${statusText}\n`;
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\n`;
    process.stderr.write(`${head}\n`);
  }
  const negotiated = `${ws.protocol ? ` (subprotocol ${ws.protocol})` : ''}${ws.extensions ? ` (extensions ${ws.extensions})` : ''}`;
  info(`connected to ${url}${ws.httpVersion === '2' ? ' over HTTP/2' : ''}${negotiated}${interactive ? '; type /help for commands, Ctrl-D or Ctrl-C to close' : ''}`);

  // Received messages: marked and coloured on a terminal, one per line (or raw bytes) elsewhere.
  const binaryOut = values['binary-out'] === true;
  const show = (data: Buffer, isBinary: boolean): void => {
    if (binaryOut) stdout.write(data);
    else if (prompt) prompt.print(`${c('36', '<')} ${preview(data, isBinary)}`);
    else if (stdout.isTTY) stdout.write(`${c('36', '<')} ${preview(data, isBinary)}\n`);
    else stdout.write(`${isBinary ? data.toString('hex') : data.toString('utf8')}\n`);
  };
  // A closed reader (`| head -1`) ends the session quietly.
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') {
      ws.terminate();
      process.exit(0);
    }
  });

  ws.on('error', (err) => problem(`error: ${err.message}`));
  ws.on('close', (code, reason, wasClean) => {
    info(`closed: code=${code}${reason ? ` reason="${reason}"` : ''} clean=${wasClean}`);
    prompt?.close();
    process.exit(wasClean ? 0 : 1);
  });

  const closeNormally = (): void => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
  };
  // First Ctrl-C: the closing handshake; a second one while it runs: leave at once.
  let interrupted = false;
  const onInterrupt = (): void => {
    if (interrupted || ws.readyState !== ws.OPEN) {
      ws.terminate();
      prompt?.close();
      process.exit(130);
    }
    interrupted = true;
    info('closing with 1000 (Ctrl-C again to quit at once)');
    ws.close(1000);
  };
  process.on('SIGINT', onInterrupt);

  if (execute !== undefined) {
    let replied = false;
    ws.on('message', (data, isBinary) => {
      // Without --wait only the first reply is printed: a script reads exactly one answer.
      if (waitMs === undefined && replied) return;
      replied = true;
      show(data, isBinary);
      if (waitMs === undefined) closeNormally();
    });
    for (const message of execute) ws.send(message);
    if (waitMs !== undefined) setTimeout(closeNormally, waitMs);
    return;
  }

  ws.on('message', show);

  if (prompt) {
    const pingsOwed: string[] = [];
    // Only the answers to /ping: keepalive pongs are not news.
    ws.on('pong', (data) => {
      if (pingsOwed.length === 0) return;
      pingsOwed.shift();
      prompt.print(`${c('36', '<')} ${c('2', `pong${data.length > 0 ? `: ${data.toString('utf8')}` : ''}`)}`);
    });
    prompt.rl.on('SIGINT', onInterrupt);
    prompt.rl.on('line', (line) => {
      if (ws.readyState === ws.OPEN) runLine(ws, line, info, problem, pingsOwed);
      prompt.show();
    });
    prompt.rl.on('close', closeNormally);
    prompt.show();
    return;
  }

  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => {
    if (ws.readyState !== ws.OPEN) return;
    // Pipe backpressure: stop reading stdin while the send queue is over its high-water mark.
    if (!ws.send(line) && ws.readyState === ws.OPEN) {
      rl.pause();
      ws.once('drain', () => rl.resume());
    }
  });
  rl.on('close', () => {
    if (waitMs === undefined) closeNormally();
    else setTimeout(closeNormally, waitMs);
  });
}
