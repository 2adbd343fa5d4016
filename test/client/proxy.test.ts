// Issue 15, proxies: connect() tunnels through an HTTP CONNECT proxy (an in-process one
// here, for exact request bytes and every way a proxy can fail; tinyproxy.test.ts runs the
// real one).
import { once } from 'node:events';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { HandshakeError, PROXY_ERROR_CODES } from '../../lib/errors.js';
import { connectProxy } from '../helpers/connect-proxy.js';
import { failure as failureOf } from '../helpers/failure.js';
import { selfSignedCert } from '../helpers/tls.js';
import { echoServer, nextMessage, trust, NO_OPENSSL, certificate } from '../http2/helpers.js';
const failure = (p: Promise<unknown>): Promise<HandshakeError> => failureOf<HandshakeError>(p);

const base = { keepAliveInterval: 0, proxy: undefined as string | undefined };

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

async function echoThrough(t: Test, ws: Awaited<ReturnType<typeof connect>>, text: string): Promise<void> {
  ws.send(text);
  t.equal(String(await nextMessage(ws)), text, 'a message goes through the tunnel and back');
  ws.close();
  await once(ws, 'close');
}

t.test('ws:// through the proxy: the exact CONNECT request, Basic credentials from the proxy URL', async (t) => {
  const { port, url } = await echoServer(t);
  const proxy = await connectProxy(t);
  const ws = await connect(url, { ...base, proxy: `http://us%40er:p%3Ass@127.0.0.1:${proxy.port}` });
  t.equal(
    proxy.requests[0],
    `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nProxy-Authorization: Basic ${Buffer.from('us@er:p:ss').toString('base64')}\r\n\r\n`,
  );
  t.equal(ws.handshake?.status, 101);
  await echoThrough(t, ws, 'via proxy');
});

t.test('proxyHeaders are sent; a Proxy-Authorization there replaces the URL credentials', async (t) => {
  const { port, url } = await echoServer(t);
  const proxy = await connectProxy(t);
  const ws = await connect(url, {
    ...base,
    proxy: `http://a:b@127.0.0.1:${proxy.port}`,
    proxyHeaders: { 'Proxy-Authorization': 'Bearer xyz', 'X-Route': 'eu' },
  });
  t.equal(proxy.requests[0], `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nProxy-Authorization: Bearer xyz\r\nX-Route: eu\r\n\r\n`);
  ws.terminate();
  await t.rejects(connect(url, { ...base, proxy: proxy.url, proxyHeaders: { 'Bad\r\nName': 'x' } }), { code: 'ERR_WS_INVALID_ARGUMENT' });
  await t.rejects(connect(url, { ...base, proxy: 'socks5://127.0.0.1:1080' }), { code: 'ERR_WS_INVALID_ARGUMENT' });
});

t.test('wss:// through the proxy: TLS to the server runs inside the tunnel, the certificate checked against the URL', { skip: certificate() === null && NO_OPENSSL }, async (t) => {
  const { port } = await echoServer(t, {}, true);
  const proxy = await connectProxy(t);
  const ws = await connect(`wss://localhost:${port}/`, { ...base, proxy: proxy.url, tls: trust() });
  t.equal(proxy.requests[0], `CONNECT localhost:${port} HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`);
  t.ok(ws.tls?.authorized, 'the server certificate was verified end to end');
  await echoThrough(t, ws, 'tls in tunnel');
  const wrong = await failure(connect(`wss://localhost:${port}/`, { ...base, proxy: proxy.url }));
  t.equal(wrong.code, 'ERR_WS_CONNECT', 'an untrusted server certificate still fails through the tunnel');
});

t.test('an https:// proxy: TLS to the proxy with proxyTls, TLS to the server with tls', { skip: certificate() === null && NO_OPENSSL }, async (t) => {
  const proxyPair = selfSignedCert()!;
  const { port } = await echoServer(t, {}, true);
  const proxy = await connectProxy(t, undefined, proxyPair);
  t.match(proxy.url, /^https:/);
  const ws = await connect(`wss://localhost:${port}/`, { ...base, proxy: proxy.url, proxyTls: { ca: proxyPair.cert }, tls: trust() });
  await echoThrough(t, ws, 'tls in tls');
  const err = await failure(connect(`wss://localhost:${port}/`, { ...base, proxy: proxy.url, tls: trust() }));
  t.equal(err.code, PROXY_ERROR_CODES.CONNECT, 'the proxy certificate is checked with proxyTls, not tls');
});

t.test('HTTP/2 (RFC 8441) through the proxy, h2c and over TLS', { skip: certificate() === null && NO_OPENSSL }, async (t) => {
  for (const secure of [false, true]) {
    const { url } = await echoServer(t, {}, secure);
    const proxy = await connectProxy(t);
    const ws = await connect(url.replace('127.0.0.1', secure ? 'localhost' : '127.0.0.1'), { ...base, http: '2', proxy: proxy.url, tls: secure ? trust() : undefined });
    t.equal(ws.httpVersion, '2');
    t.equal(proxy.requests.length, 1);
    await echoThrough(t, ws, `h2 ${secure}`);
  }
});

/** A proxy that answers every CONNECT with `answer` (then does what `after` says). */
const answering = (answer: string | Buffer, after: 'end' | 'keep' | 'destroy' = 'end') =>
  (socket: import('node:net').Socket): boolean => {
    socket.write(answer);
    if (after === 'end') socket.end();
    if (after === 'destroy') socket.destroy();
    return true;
  };

t.test('refusals are ERR_WS_PROXY_REFUSED with the proxy status, headers and body', async (t) => {
  const { url } = await echoServer(t);
  for (const [status, text] of [[407, 'Proxy Authentication Required'], [403, 'Forbidden'], [502, 'Bad Gateway']] as const) {
    const body = `no (${status})`;
    const proxy = await connectProxy(t, answering(`HTTP/1.1 ${status} ${text}\r\nProxy-Authenticate: Basic realm="x"\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 'keep'));
    const err = await failure(connect(url, { ...base, proxy: proxy.url }));
    t.type(err, HandshakeError);
    t.equal(err.code, 'ERR_WS_PROXY_REFUSED');
    t.equal(err.status, status);
    t.equal(err.headers?.['proxy-authenticate'], 'Basic realm="x"');
    t.equal(String(err.body), body);
    t.match(err.message, new RegExp(`the proxy http://127\\.0\\.0\\.1:${proxy.port} refused the tunnel to 127\\.0\\.0\\.1:\\d+ with ${status} ${text}`));
    if (status === 407) t.match(err.message, /wants credentials/);
  }
});

t.test('a huge refusal body is kept to 4 KiB', async (t) => {
  const { url } = await echoServer(t);
  const big = 'x'.repeat(1 << 20);
  const proxy = await connectProxy(t, answering(`HTTP/1.1 403 Forbidden\r\nContent-Length: ${big.length}\r\n\r\n${big}`));
  const err = await failure(connect(url, { ...base, proxy: proxy.url }));
  t.equal(err.code, 'ERR_WS_PROXY_REFUSED');
  t.equal(err.body?.length, 4096);
});

t.test('a garbage answer, a huge head, a hang, a close mid-head, no proxy at all', async (t) => {
  const { url } = await echoServer(t);
  const garbage = await connectProxy(t, answering('SSH-2.0-OpenSSH_9.2\r\n\r\n'));
  t.equal((await failure(connect(url, { ...base, proxy: garbage.url }))).code, 'ERR_WS_PROXY_INVALID_RESPONSE');

  const huge = await connectProxy(t, answering(`HTTP/1.1 200 OK\r\n${`X-Pad: ${'a'.repeat(4000)}\r\n`.repeat(10)}`, 'keep'));
  const tooLarge = await failure(connect(url, { ...base, proxy: huge.url }));
  t.equal(tooLarge.code, 'ERR_WS_PROXY_RESPONSE_TOO_LARGE', 'the head limit (16 KiB) applies to the proxy too');
  t.match(tooLarge.message, /Invalid answer to CONNECT from the proxy/);

  const small = await connectProxy(t, answering(`HTTP/1.1 200 OK\r\nX-Pad: ${'a'.repeat(600)}\r\n\r\n`, 'keep'));
  t.equal((await failure(connect(url, { ...base, proxy: small.url, maxHeadSize: 512 }))).code, 'ERR_WS_PROXY_RESPONSE_TOO_LARGE', 'maxHeadSize is the limit');

  const hang = await connectProxy(t, () => true);
  const timeout = await failure(connect(url, { ...base, proxy: hang.url, handshakeTimeout: 300 }));
  t.equal(timeout.code, 'ERR_WS_PROXY_TIMEOUT');

  const midHead = await connectProxy(t, answering('HTTP/1.1 200 Conn', 'end'));
  const closed = await failure(connect(url, { ...base, proxy: midHead.url }));
  t.equal(closed.code, 'ERR_WS_PROXY_CONNECT');
  t.match(closed.message, /closed the connection before the HTTP head was complete/);

  const gone = net.createServer();
  await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
  const gonePort = (gone.address() as net.AddressInfo).port;
  await new Promise((r) => gone.close(r));
  const unreachable = await failure(connect(url, { ...base, proxy: `http://127.0.0.1:${gonePort}` }));
  t.equal(unreachable.code, 'ERR_WS_PROXY_CONNECT', 'a proxy that cannot be reached');
  t.match(unreachable.message, /ECONNREFUSED/);
});

t.test('a 200 from a proxy that then does not tunnel is the server failing: ERR_WS_CONNECT, not a proxy code', async (t) => {
  const proxy = await connectProxy(t, answering('HTTP/1.1 200 Connection established\r\n\r\n', 'end'));
  const err = await failure(connect('ws://127.0.0.1:9/', { ...base, proxy: proxy.url }));
  t.equal(err.code, 'ERR_WS_CONNECT');
});

t.test('the process survives a proxy that resets during the tunnel', async (t) => {
  const proxy = await connectProxy(t, answering('HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 101', 'destroy'));
  const err = await failure(connect('ws://127.0.0.1:9/', { ...base, proxy: proxy.url }));
  t.ok(['ERR_WS_CONNECT', 'ERR_WS_INVALID_RESPONSE'].includes(err.code), err.code);
});

t.test('an h2 session opened by the application is unaffected by proxy options', async (t) => {
  const { port, url } = await echoServer(t);
  const session = http2.connect(`http://127.0.0.1:${port}`);
  t.teardown(() => session.destroy());
  await t.rejects(connect(url, { ...base, http: '2', session, proxy: 'http://127.0.0.1:1' }), { code: 'ERR_WS_INVALID_ARGUMENT' });
});
