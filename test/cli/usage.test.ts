// rfcws --help / --version / <command> --help, and command-line mistakes: one line, exit 2.
import t from 'tap';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { UsageError } from '../../lib/cli/args.js';
import { connectCommand } from '../../lib/cli/connect.js';
import { serve } from '../../lib/cli/serve.js';
import { run } from './helpers.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string; bin: Record<string, string> };

t.test('package.json bin still points at dist/lib/cli.js', async (t) => {
  t.equal(pkg.bin.rfcws, './dist/lib/cli.js');
});

t.test('--help, help <command>, <command> --help and --version print to stdout and exit 0', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--help'], /^Usage: rfcws <command>[\s\S]*serve[\s\S]*connect/],
    [['-h'], /^Usage: rfcws <command>/],
    [['help', 'connect'], /^Usage: rfcws connect <url>/],
    [['serve', '--help'], /^Usage: rfcws serve \[options\][\s\S]*--tls-cert[\s\S]*--broadcast/],
    [['serve', '-h'], /^Usage: rfcws serve/],
    [['connect', '--help'], /^Usage: rfcws connect <url>[\s\S]*--execute[\s\S]*\/close \[code \[reason\]\]/],
    [['connect', 'ws://127.0.0.1:1/', '--help'], /^Usage: rfcws connect/],
  ];
  await Promise.all(
    cases.map(async ([args, re]) => {
      const r = run(t, args);
      t.equal(await r.exited, 0, `${args.join(' ')} exits 0`);
      t.match(r.out(), re, `${args.join(' ')} prints its usage`);
      t.equal(r.err(), '', `${args.join(' ')} prints nothing on stderr`);
    }),
  );
  const v = run(t, ['--version']);
  t.equal(await v.exited, 0);
  t.equal(v.out(), `${pkg.version}\n`);
});

t.test('every flag of the help texts is spelled as the brief asks', async (t) => {
  const serve = run(t, ['serve', '--help']);
  await serve.exited;
  for (const flag of ['--port', '--host', '--path', '--tls-cert', '--tls-key', '-s, --subprotocol', '--origin', '--broadcast', '--max-payload', '--keepalive', '--no-deflate', '--workers', '--redis', '--quiet']) {
    t.ok(serve.out().includes(flag), `serve --help lists ${flag}`);
  }
  const connect = run(t, ['connect', '--help']);
  await connect.exited;
  for (const flag of ['-x, --execute', '--wait', '-H, --header', '-s, --subprotocol', '-o, --origin', '--show-headers', '--ca', '--cert', '--key', '--insecure', '--handshake-timeout', '--max-payload', '--no-deflate', '--binary-out', '/ping', '/close', '/binary', '/help']) {
    t.ok(connect.out().includes(flag), `connect --help lists ${flag}`);
  }
});

t.test('usage mistakes are one line on stderr naming the problem, exit 2', async (t) => {
  const cases: [string[], string][] = [
    [['serve', '--bogus'], 'rfcws serve: unknown option --bogus (see rfcws serve --help)'],
    [['connect', 'ws://a/', 'ws://b/'], 'rfcws connect: unexpected argument "ws://b/" (see rfcws connect --help)'],
    [['frob'], 'rfcws: unknown command "frob": the commands are serve and connect (see rfcws --help)'],
    [['--frob'], 'rfcws: unknown option --frob (see rfcws --help)'],
  ];
  await Promise.all(
    cases.map(async ([args, line]) => {
      const r = run(t, args);
      t.equal(await r.exited, 2, `${args.join(' ')}: exit 2`);
      t.equal(r.err(), `${line}\n`, `${args.join(' ')}: one line`);
      t.equal(r.out(), '');
    }),
  );
});

t.test('what each mistake says (in-process: the commands throw UsageError before any I/O)', async (t) => {
  const cases: [typeof serve, string[], string][] = [
    [serve, ['extra'], 'unexpected argument "extra"'],
    [serve, ['--port'], '--port needs a value'],
    [serve, ['--port', 'eighty'], '--port takes a whole number from 0 to 65535 (got "eighty")'],
    [serve, ['--port', '65536'], '--port takes a whole number from 0 to 65535 (got "65536")'],
    [serve, ['--keepalive', '1.5'], '--keepalive takes a non-negative whole number (got "1.5")'],
    [serve, ['--max-payload', '0'], '--max-payload takes a whole number >= 1 (got "0")'],
    [serve, ['--quiet=yes'], '--quiet takes no value'],
    [serve, ['-s'], '-s, --subprotocol needs a value'],
    [serve, ['--tls-cert', 'c.pem'], '--tls-cert and --tls-key go together'],
    [serve, ['--tls-key', 'k.pem'], '--tls-cert and --tls-key go together'],
    [connectCommand, [], 'missing the URL, e.g. rfcws connect ws://127.0.0.1:8080/'],
    [connectCommand, ['ws://a/', '--proxy', 'x', '--no-proxy'], '--proxy and --no-proxy are one choice: pass one of them'],
    [connectCommand, ['ws://127.0.0.1:1/', '--proxy', 'socks5://127.0.0.1:1080'], 'Proxy URL must be http://host:port or https://host:port, got "socks5://127.0.0.1:1080"'],
    [connectCommand, ['ws://a/', '-H', 'no colon'], '--header takes "Name: value" (got "no colon")'],
    [connectCommand, ['ws://a/', '--cert', 'c.pem'], '--cert and --key go together'],
    [connectCommand, ['ws://a/', '--wait=-1'], '--wait takes a non-negative whole number (got "-1")'],
    [connectCommand, ['ws://a/', '--wait', '-1'], '--wait needs a value (for one that starts with "-", write --wait=VALUE)'],
    [connectCommand, ['ws://a/', '--handshake-timeout', '0'], '--handshake-timeout takes a whole number >= 1 (got "0")'],
    [connectCommand, ['ws://a/', '-x'], '-x, --execute needs a value'],
    // Refused by connect() before dialling.
    [connectCommand, ['localhost:8080'], 'URL scheme must be ws: or wss:, got localhost: (did you mean ws://localhost:8080?)'],
    [connectCommand, ['ftp://127.0.0.1/'], 'URL scheme must be ws: or wss:, got ftp:'],
    [connectCommand, ['ws://127.0.0.1:1/', '-s', 'two words'], 'Invalid subprotocol "two words": it must be an HTTP token'],
  ];
  for (const [command, args, message] of cases) {
    const err = await command(args).then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(err instanceof UsageError, `${args.join(' ')}: a usage error`);
    t.equal((err as Error).message, message, `${args.join(' ') || '(no arguments)'}`);
  }
});

t.test('connection refused names host and port, exit 1', async (t) => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const r = run(t, ['connect', `ws://127.0.0.1:${port}/`]);
  t.equal(await r.exited, 1);
  t.equal(r.err(), `rfcws: connection refused by 127.0.0.1:${port}: is a server listening there?\n`);
});

t.test('--handshake-timeout: a server that never answers is given up on, exit 1', async (t) => {
  const silent = net.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => silent.close(r)));
  const sockets: net.Socket[] = [];
  silent.on('connection', (s) => sockets.push(s));
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  const { port } = silent.address() as net.AddressInfo;
  const r = run(t, ['connect', `ws://127.0.0.1:${port}/`, '--handshake-timeout', '100']);
  t.equal(await r.exited, 1);
  t.match(r.err(), /^rfcws: No WebSocket handshake response from ws:\/\/127\.0\.0\.1:\d+\/ within 100 ms\n$/);
});

t.test('a file that cannot be read is one line and exit 1', async (t) => {
  const r = run(t, ['connect', 'wss://127.0.0.1:1/', '--ca', '/nonexistent/ca.pem']);
  t.equal(await r.exited, 1);
  t.match(r.err(), /^rfcws: cannot read --ca \/nonexistent\/ca\.pem: ENOENT[^\n]*\n$/);
  const s = run(t, ['serve', '--port', '0', '--tls-cert', '/nonexistent/c.pem', '--tls-key', '/nonexistent/k.pem']);
  t.equal(await s.exited, 1);
  t.match(s.err(), /^rfcws: cannot read --tls-cert \/nonexistent\/c\.pem: ENOENT[^\n]*\n$/);
});
