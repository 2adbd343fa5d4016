// connect()'s `signal`: aborting a dial destroys the socket (or HTTP/2 stream) being dialled at
// once, directly, through a proxy and over HTTP/2, and rejects with ERR_WS_ABORTED (AbortError);
// the server never completes a handshake and no socket is left open.
import { once } from 'node:events';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { HandshakeError, InvalidArgumentError } from '../../lib/errors.js';

type Test = Parameters<Parameters<typeof import('tap').test>[0]>[0];

/** A TCP server that reads and never answers; resolves each connection with its first bytes. */
async function silentServer(t: Test): Promise<{ port: number; server: net.Server; next(): Promise<{ socket: net.Socket; first: string }> }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const next = () => new Promise<{ socket: net.Socket; first: string }>((resolve) => {
    server.once('connection', (socket) => {
      socket.on('error', () => {});
      socket.once('data', (d: Buffer) => resolve({ socket, first: d.toString('latin1') }));
    });
  });
  return { port, server, next };
}

async function expectAborted(t: Test, p: Promise<unknown>): Promise<void> {
  const err = await p.then(() => null, (e: unknown) => e);
  t.type(err, HandshakeError);
  t.equal((err as HandshakeError).code, 'ERR_WS_ABORTED');
  t.equal((err as HandshakeError).name, 'AbortError');
}

function connections(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
}

t.test('direct: abort after the request was sent closes the socket at once and rejects', async (t) => {
  const s = await silentServer(t);
  const ac = new AbortController();
  const accepted = s.next();
  const p = connect(`ws://127.0.0.1:${s.port}/`, { signal: ac.signal });
  const { socket, first } = await accepted;
  t.match(first, /^GET \/ HTTP\/1\.1/);
  const closed = once(socket, 'close');
  ac.abort(new Error('changed my mind'));
  await expectAborted(t, p);
  await closed;
  t.equal(await connections(s.server), 0, 'no socket left on the server');
});

t.test('an already aborted signal rejects without dialling; a non-signal is refused', async (t) => {
  const s = await silentServer(t);
  let dialled = 0;
  s.server.on('connection', () => dialled++);
  await expectAborted(t, connect(`ws://127.0.0.1:${s.port}/`, { signal: AbortSignal.abort() }));
  await t.rejects(connect(`ws://127.0.0.1:${s.port}/`, { signal: {} as AbortSignal }), InvalidArgumentError);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(dialled, 0);
});

t.test('through a proxy: abort while the CONNECT is unanswered closes the tunnel socket', async (t) => {
  const proxy = await silentServer(t);
  const ac = new AbortController();
  const accepted = proxy.next();
  const p = connect('ws://127.0.0.1:9/', { proxy: `http://127.0.0.1:${proxy.port}`, signal: ac.signal });
  const { socket, first } = await accepted;
  t.match(first, /^CONNECT 127\.0\.0\.1:9 HTTP\/1\.1/);
  const closed = once(socket, 'close');
  ac.abort();
  await expectAborted(t, p);
  await closed;
  t.equal(await connections(proxy.server), 0);
});

t.test('HTTP/2: abort while the extended CONNECT is unanswered cancels the stream', async (t) => {
  const server = http2.createServer({ settings: { enableConnectProtocol: true } });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const streamP = once(server, 'stream') as Promise<[http2.ServerHttp2Stream, http2.IncomingHttpHeaders]>;
  const ac = new AbortController();
  const p = connect(`ws://127.0.0.1:${port}/`, { http: '2', signal: ac.signal });
  const [stream, headers] = await streamP;
  t.equal(headers[':protocol'], 'websocket');
  const closed = once(stream, 'close');
  ac.abort();
  await expectAborted(t, p);
  await closed;
  t.equal(stream.rstCode, http2.constants.NGHTTP2_CANCEL, 'the stream was reset with CANCEL, no response sent');
  t.equal(stream.headersSent, false);
});
