// Issue 15, proxies against the real thing: tinyproxy (Debian package tinyproxy), started
// here on 127.0.0.1 with its own config. ws:// and wss:// through it, Basic auth, its 407
// and 403, and the environment variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY).
import { once } from 'node:events';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import type { HandshakeError } from '../../lib/errors.js';
import type { WebSocket } from '../../lib/websocket.js';
import { failure as failureOf } from '../helpers/failure.js';
import { startTinyproxy, tinyproxyMissing } from '../helpers/tinyproxy.js';
import { certificate, echoServer, nextMessage, NO_OPENSSL, trust } from '../http2/helpers.js';
const failure = (p: Promise<unknown>): Promise<HandshakeError> => failureOf<HandshakeError>(p);

type Test = Parameters<Parameters<typeof t.test>[0]>[0];
const base = { keepAliveInterval: 0 };
const missing = tinyproxyMissing();

async function roundTrip(t: Test, ws: WebSocket, text: string): Promise<void> {
  ws.send(text);
  t.equal(String(await nextMessage(ws)), text, 'echoed through tinyproxy');
  ws.close();
  await once(ws, 'close');
}

/** Set environment variables for one test, restored at its end. */
function withEnv(t: Test, vars: Record<string, string | undefined>): void {
  const saved: Record<string, string | undefined> = {};
  for (const name of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy']) {
    saved[name] = process.env[name];
    delete process.env[name];
  }
  for (const [name, value] of Object.entries(vars)) if (value !== undefined) process.env[name] = value;
  t.teardown(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}

if (missing) {
  t.comment(missing);
  t.pass('skipped: tinyproxy is not installed');
} else {
  t.test('ws:// through tinyproxy', async (t) => {
    const { port, url } = await echoServer(t);
    const proxy = await startTinyproxy(t, [port]);
    const ws = await connect(url, { ...base, proxy: proxy.url });
    t.equal(ws.handshake?.status, 101);
    await roundTrip(t, ws, 'hello tinyproxy');
  });

  t.test('wss:// through tinyproxy, the self-signed certificate verified end to end', { skip: certificate() === null && NO_OPENSSL }, async (t) => {
    const { port } = await echoServer(t, {}, true);
    const proxy = await startTinyproxy(t, [port]);
    const ws = await connect(`wss://localhost:${port}/`, { ...base, proxy: proxy.url, tls: trust() });
    t.ok(ws.tls?.authorized);
    await roundTrip(t, ws, 'tls through tinyproxy');
  });

  t.test('HTTP/2 through tinyproxy', { skip: certificate() === null && NO_OPENSSL }, async (t) => {
    const { port } = await echoServer(t, {}, true);
    const proxy = await startTinyproxy(t, [port]);
    const ws = await connect(`wss://localhost:${port}/`, { ...base, http: '2', proxy: proxy.url, tls: trust() });
    t.equal(ws.httpVersion, '2');
    await roundTrip(t, ws, 'h2 through tinyproxy');
  });

  t.test('Basic auth: credentials in the proxy URL pass, none is a 407 from the proxy', async (t) => {
    const { port, url } = await echoServer(t);
    const proxy = await startTinyproxy(t, [port], { user: 'alice', pass: 's3cret' });
    const ws = await connect(url, { ...base, proxy: `http://alice:s3cret@127.0.0.1:${proxy.port}` });
    await roundTrip(t, ws, 'authenticated');
    const err = await failure(connect(url, { ...base, proxy: proxy.url }));
    t.equal(err.code, 'ERR_WS_PROXY_REFUSED');
    t.equal(err.status, 407);
    t.match(err.headers?.['proxy-authenticate'] ?? '', /^Basic/);
    const wrong = await failure(connect(url, { ...base, proxy: `http://alice:nope@127.0.0.1:${proxy.port}` }));
    // tinyproxy 1.11 answers wrong credentials with 401 (others with 407): a refusal from the proxy either way.
    t.equal(wrong.code, 'ERR_WS_PROXY_REFUSED', 'wrong credentials too');
    t.ok(wrong.status === 401 || wrong.status === 407, `status ${wrong.status}`);
  });

  t.test('a port tinyproxy does not allow to CONNECT to is its 403', async (t) => {
    const { port, url } = await echoServer(t);
    const proxy = await startTinyproxy(t, [port + 1 === 65536 ? port - 1 : port + 1]);
    const err = await failure(connect(url, { ...base, proxy: proxy.url }));
    t.equal(err.code, 'ERR_WS_PROXY_REFUSED');
    t.equal(err.status, 403);
    t.ok((err.body?.length ?? 0) > 0, 'with its error page');
  });

  t.test('environment: HTTP_PROXY for ws://, NO_PROXY, HTTPS_PROXY only for wss://, proxy: false', async (t) => {
    const { port, url } = await echoServer(t);
    const proxy = await startTinyproxy(t, [port], { user: 'env', pass: 'pw' });
    // The proxy wants credentials: a 407 proves a connection went through it.
    withEnv(t, { HTTP_PROXY: proxy.url });
    t.equal((await failure(connect(url, base))).status, 407, 'HTTP_PROXY is used for ws://');
    await roundTrip(t, await connect(url, { ...base, proxy: false }), 'proxy false');

    process.env.http_proxy = `http://env:pw@127.0.0.1:${proxy.port}`;
    await roundTrip(t, await connect(url, base), 'lower-case http_proxy wins');
    delete process.env.http_proxy;

    for (const noProxy of ['127.0.0.1', `127.0.0.1:${port}`, '*', 'example.com, 127.0.0.0/8']) {
      process.env.NO_PROXY = noProxy;
      await roundTrip(t, await connect(url, base), `NO_PROXY=${noProxy} dials directly`);
    }
    process.env.NO_PROXY = `127.0.0.1:${port + 1}`;
    t.equal((await failure(connect(url, base))).status, 407, 'NO_PROXY for another port does not apply');
    delete process.env.NO_PROXY;

    delete process.env.HTTP_PROXY;
    process.env.HTTPS_PROXY = proxy.url;
    await roundTrip(t, await connect(url, base), 'HTTPS_PROXY does not apply to ws://');
  });

  t.test('environment: HTTPS_PROXY for wss://', { skip: certificate() === null && NO_OPENSSL }, async (t) => {
    const { port } = await echoServer(t, {}, true);
    const proxy = await startTinyproxy(t, [port], { user: 'env', pass: 'pw' });
    withEnv(t, { https_proxy: proxy.url, HTTP_PROXY: 'http://127.0.0.1:1' });
    t.equal((await failure(connect(`wss://localhost:${port}/`, { ...base, tls: trust() }))).status, 407, 'https_proxy is used for wss://');
    process.env.https_proxy = `http://env:pw@127.0.0.1:${proxy.port}`;
    await roundTrip(t, await connect(`wss://localhost:${port}/`, { ...base, tls: trust() }), 'wss via https_proxy');
    process.env.no_proxy = '.localhost';
    await roundTrip(t, await connect(`wss://localhost:${port}/`, { ...base, tls: trust() }), 'no_proxy .localhost');
  });
}
