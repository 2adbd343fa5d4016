// Every way a connection can fail looks the same to the page, as the standard requires:
// `error` (a plain Event, no details), then `close` with 1006 and wasClean false.
import * as net from 'node:net';
import * as tls from 'node:tls';
import t from 'tap';
import { WebSocket } from '../../lib/web/index.js';
import { switchingProtocols } from '../helpers/http.js';
import { scriptedServer, ScriptedServer } from '../helpers/raw-server.js';
import { selfSignedCert } from '../helpers/tls.js';
import { record } from './helpers.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

/** The events of one connection attempt, and what the error event looked like. */
async function attempt(url: string, protocols?: string[]): Promise<{ events: string[]; errorKind: string }> {
  const ws = new WebSocket(url, protocols);
  let errorKind = '';
  ws.addEventListener('error', (e) => {
    const own = Object.keys(e).filter((k) => k !== 'isTrusted');
    errorKind = `${e.constructor.name}${own.length ? ` with ${own.join(',')}` : ''}`;
  });
  const { events, closed } = record(ws);
  await closed;
  return { events, errorKind };
}

const BEFORE_OPEN = ['error', 'close 1006  false'];

async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function answering(t: Test, answer: (socket: net.Socket, key: string) => void): Promise<string> {
  return (await scriptedServer(t, (socket, _head, key) => answer(socket, key))).url;
}

t.test('before open: refused, DNS, refused upgrade, bad accept, silence then close, garbage, protocol mismatch, TLS', async (t) => {
  const cases: Array<[string, () => Promise<string>, string[]?]> = [
    ['connection refused', async () => `ws://127.0.0.1:${await closedPort()}/`],
    ['DNS failure', async () => 'ws://no-such-host.invalid/'],
    ['403 instead of 101', () => answering(t, (s) => s.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'))],
    ['redirect', () => answering(t, (s) => s.end('HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n'))],
    ['wrong Sec-WebSocket-Accept', () => answering(t, (s) => s.write(switchingProtocols('dGhlIHNhbXBsZSBub25jZQ==')))],
    ['closed without an answer', () => answering(t, (s) => s.end())],
    ['not HTTP', () => answering(t, (s) => s.end('SSH-2.0-OpenSSH\r\n\r\n'))],
    ['subprotocol not offered', () => answering(t, (s, key) => s.write(switchingProtocols(key, 'Sec-WebSocket-Protocol: other\r\n'))), ['chat']],
  ];
  const pem = selfSignedCert();
  if (pem !== null) {
    cases.push(['untrusted TLS certificate', async () => {
      const server = tls.createServer(pem, (s) => s.on('error', () => {}));
      server.on('tlsClientError', () => {});
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      t.teardown(() => server.close());
      return `wss://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
    }]);
    cases.push(['TLS to a cleartext server', () => answering(t, (s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')).then((u) => u.replace('ws:', 'wss:'))]);
  } else {
    t.comment('openssl is missing (Debian package openssl): the TLS cases are skipped');
  }
  for (const [name, url, protocols] of cases) {
    const r = await attempt(await url(), protocols);
    t.same(r.events, BEFORE_OPEN, name);
    t.equal(r.errorKind, 'Event', `${name}: the error is a plain Event without details`);
  }
});

t.test('after open: a reset, a protocol error, a drop without a close frame: open, error, close 1006', async (t) => {
  const server = await ScriptedServer.listen();
  t.teardown(() => server.close());
  const scripts: Array<[string, (peer: Awaited<ReturnType<typeof server.accept>>['peer']) => Promise<void> | void]> = [
    ['TCP reset', (p) => p.reset()],
    ['reserved opcode', async (p) => { await p.send({ opcode: 0x3, payload: 'x' }); }],
    ['FIN without a close frame', (p) => p.end()],
    ['masked frame from the server', async (p) => { await p.send(Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61])); }],
  ];
  for (const [name, script] of scripts) {
    const ws = new WebSocket(server.url);
    const { events, closed } = record(ws);
    const { peer } = await server.accept();
    await new Promise((r) => ws.addEventListener('open', r));
    await script(peer);
    if (name !== 'TCP reset' && name !== 'FIN without a close frame') {
      t.equal(await peer.untilClose(), 1002, `${name}: the client closed with 1002`);
      peer.end();
    }
    await closed;
    t.same(events, ['open', 'error', 'close 1006  false'], name);
  }
});
