// Issue 15, redirects and credentials: followRedirects / maxRedirects, what the next server
// sees (exact request heads), headers as a function per attempt, the cookie jar.
import * as tls from 'node:tls';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import type { HandshakeError } from '../../lib/errors.js';
import { CookieJar } from '../../lib/http/cookie-jar.js';
import { connectProxy } from '../helpers/connect-proxy.js';
import { failure as failureOf } from '../helpers/failure.js';
import { switchingProtocols } from '../helpers/http.js';
import { scriptedServer, type Scripted } from '../helpers/raw-server.js';
import { selfSignedCert } from '../helpers/tls.js';
const failure = (p: Promise<unknown>): Promise<HandshakeError> => failureOf<HandshakeError>(p);

type Test = Parameters<Parameters<typeof t.test>[0]>[0];
const base = { keepAliveInterval: 0, proxy: false as const };

const redirect = (status: number, location: string, extra = ''): string =>
  `HTTP/1.1 ${status} Moved\r\nLocation: ${location}\r\n${extra}Content-Length: 0\r\n\r\n`;

/** A server that opens every upgrade (with `extra` header lines on the 101). */
const final = (t: Test, extra = ''): Promise<Scripted> => scriptedServer(t, (s, _h, key) => s.write(switchingProtocols(key, extra)));

/** A server that answers every request with `answer(requestIndex)`, then ends. */
const redirecting = (t: Test, answer: (n: number) => string): Promise<Scripted> => {
  let n = 0;
  return scriptedServer(t, (s) => s.end(answer(n++)));
};

/** The request head minus its random key. */
const keyless = (head: string): string => head.replace(/Sec-WebSocket-Key: [^\r]*\r\n/, '');

t.test('without followRedirects a 3xx is ERR_WS_UPGRADE_STATUS with the resolved location', async (t) => {
  const a = await redirecting(t, () => redirect(302, '/elsewhere?x=1'));
  const err = await failure(connect(a.url, base));
  t.equal(err.code, 'ERR_WS_UPGRADE_STATUS');
  t.equal(err.status, 302);
  t.equal(err.headers?.location, '/elsewhere?x=1');
  t.equal(err.location, `ws://127.0.0.1:${a.port}/elsewhere?x=1`);
  t.match(err.message, /pass followRedirects: true/);
  t.equal(a.requests.length, 1);
});

t.test('each redirect status is followed; http: maps to ws:; the final URL is ws.url', async (t) => {
  const b = await final(t);
  for (const status of [301, 302, 303, 307, 308]) {
    const a = await redirecting(t, () => redirect(status, `http://127.0.0.1:${b.port}/final?s=${status}`));
    const ws = await connect(a.url, { ...base, followRedirects: true });
    t.equal(ws.url, `ws://127.0.0.1:${b.port}/final?s=${status}`, `${status}`);
    t.equal(ws.handshake?.status, 101);
    ws.terminate();
  }
  t.match(b.requests[4], /^GET \/final\?s=308 HTTP\/1\.1\r\n/, 'still a GET upgrade after 303');
  const a300 = await redirecting(t, () => redirect(300, `ws://127.0.0.1:${b.port}/`));
  t.equal((await failure(connect(a300.url, { ...base, followRedirects: true }))).status, 300, '300 is not followed');
});

t.test('same origin (relative Location) keeps Authorization and Cookie', async (t) => {
  let n = 0;
  const a = await scriptedServer(t, (s, _h, key) => (n++ === 0 ? s.end(redirect(307, 'next')) : s.write(switchingProtocols(key))));
  const url = `ws://user:pw@127.0.0.1:${a.port}/room/`;
  const ws = await connect(url, { ...base, followRedirects: true, headers: { Cookie: 'c=1', 'X-Other': 'y' } });
  t.equal(ws.url, `ws://user:pw@127.0.0.1:${a.port}/room/next`);
  ws.terminate();
  t.equal(
    keyless(a.requests[1]),
    `GET /room/next HTTP/1.1\r\nHost: 127.0.0.1:${a.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
      `Authorization: Basic ${Buffer.from('user:pw').toString('base64')}\r\nCookie: c=1\r\nX-Other: y\r\n\r\n`,
  );
});

t.test('another origin gets no Authorization, Cookie or proxy credentials: the exact head it saw', async (t) => {
  const b = await final(t);
  const a = await redirecting(t, (n) => (n === 0 ? redirect(302, `ws://127.0.0.1:${b.port}/b`) : 'HTTP/1.1 500 X\r\n\r\n'));
  const ws = await connect(`ws://user:pw@127.0.0.1:${a.port}/a`, {
    ...base,
    followRedirects: true,
    origin: 'https://app.example',
    headers: { Authorization: 'Bearer secret', Cookie: 'c=1', 'X-Trace': 't1' },
  });
  ws.terminate();
  t.match(a.requests[0], /Authorization: Bearer secret\r\nCookie: c=1\r\n/, 'the first server got them');
  t.equal(
    keyless(b.requests[0]),
    `GET /b HTTP/1.1\r\nHost: 127.0.0.1:${b.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
      'Origin: https://app.example\r\nX-Trace: t1\r\n\r\n',
  );

  // Through a proxy: the proxy URL's credentials stay behind as well.
  const proxy = await connectProxy(t);
  const b2 = await final(t);
  const a2 = await redirecting(t, () => redirect(302, `ws://localhost:${b2.port}/`));
  const viaProxy = await connect(a2.url, { ...base, followRedirects: true, proxy: `http://pu:pp@127.0.0.1:${proxy.port}`, proxyHeaders: { 'X-P': '1' } });
  viaProxy.terminate();
  t.match(proxy.requests[0], /\r\nProxy-Authorization: Basic /);
  t.equal(proxy.requests[1], `CONNECT localhost:${b2.port} HTTP/1.1\r\nHost: localhost:${b2.port}\r\nX-P: 1\r\n\r\n`);
});

const pair = selfSignedCert();
t.test('wss to ws drops credentials', { skip: pair === null && 'openssl missing' }, async (t) => {
  const b = await final(t);
  const server = tls.createServer(pair!, (s) => {
    s.on('error', () => {});
    s.once('data', () => s.end(redirect(301, `ws://127.0.0.1:${b.port}/plain`)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as import('node:net').AddressInfo).port;
  const ws = await connect(`wss://127.0.0.1:${port}/`, { ...base, followRedirects: true, tls: { ca: pair!.cert }, headers: { Authorization: 'Bearer s' } });
  ws.terminate();
  t.notMatch(b.requests[0], /Authorization/);
});

t.test('loops are bounded: maxRedirects, then ERR_WS_TOO_MANY_REDIRECTS', async (t) => {
  const a = await redirecting(t, () => redirect(302, '/again'));
  const err = await failure(connect(a.url, { ...base, followRedirects: true, maxRedirects: 3 }));
  t.equal(err.code, 'ERR_WS_TOO_MANY_REDIRECTS');
  t.equal(a.requests.length, 4, 'the first request and 3 redirects');
  t.equal(err.location, `ws://127.0.0.1:${a.port}/again`);
  const byDefault = await redirecting(t, () => redirect(308, '/'));
  t.equal((await failure(connect(byDefault.url, { ...base, followRedirects: true }))).code, 'ERR_WS_TOO_MANY_REDIRECTS');
  t.equal(byDefault.requests.length, 11, 'default maxRedirects 10');
  const none = await redirecting(t, () => redirect(302, '/'));
  t.equal((await failure(connect(none.url, { ...base, followRedirects: true, maxRedirects: 0 }))).code, 'ERR_WS_TOO_MANY_REDIRECTS');
  await t.rejects(connect(none.url, { ...base, maxRedirects: -1 }), { code: 'ERR_WS_INVALID_ARGUMENT' });
});

t.test('a Location that is not a WebSocket URL', async (t) => {
  for (const location of ['ftp://127.0.0.1/', 'http://']) {
    const a = await redirecting(t, () => redirect(302, location));
    const err = await failure(connect(a.url, { ...base, followRedirects: true }));
    t.equal(err.code, 'ERR_WS_INVALID_REDIRECT', location);
    t.equal(err.status, 302);
  }
  const missing = await redirecting(t, () => 'HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n');
  t.equal((await failure(connect(missing.url, { ...base, followRedirects: true }))).code, 'ERR_WS_INVALID_REDIRECT', 'no Location at all');
});

t.test('headers as a function: called for each attempt and hop with its URL, sync or async', async (t) => {
  const b = await final(t);
  const a = await redirecting(t, () => redirect(302, `ws://127.0.0.1:${b.port}/hop`));
  const seen: string[] = [];
  let token = 0;
  const headers = async (url: URL): Promise<Record<string, string>> => {
    seen.push(url.href);
    await new Promise((r) => setTimeout(r, 1));
    return { 'X-Token': `t${++token}`, Authorization: `Bearer ${token}` };
  };
  (await connect(a.url, { ...base, followRedirects: true, headers })).terminate();
  t.same(seen, [a.url, `ws://127.0.0.1:${b.port}/hop`]);
  t.match(a.requests[0], /X-Token: t1\r\nAuthorization: Bearer 1\r\n/);
  t.match(b.requests[0], /X-Token: t2\r\n\r\n$/, 'the second hop left the origin: its Authorization is dropped, function or not');
  (await connect(b.url, { ...base, headers: () => ({ 'X-Token': 'sync' }) })).terminate();
  t.match(b.requests[1], /X-Token: sync\r\n/, 'a new connect is a new attempt: the function is called again');
  await t.rejects(connect(b.url, { ...base, headers: () => ({ 'Bad Name': 'x' }) }), { code: 'ERR_WS_INVALID_ARGUMENT' });
  await t.rejects(connect(b.url, { ...base, headers: async () => { throw new Error('no token'); } }), { message: 'no token' });
});

t.test('cookies: Set-Cookie of redirects and of the 101 stored, sent on every attempt by the jar rules', async (t) => {
  const jar = new CookieJar();
  const b = await final(t, 'Set-Cookie: fromB=2; Path=/\r\n');
  let n = 0;
  const a = await scriptedServer(t, (s, _h, key) => {
    if (n++ === 0) s.end(redirect(302, '/second', 'Set-Cookie: sid=abc; Path=/\r\nSet-Cookie: theme=dark, blue; Expires=Wed, 01 Jan 2099 00:00:00 GMT\r\n'));
    else if (n === 2) s.end(redirect(302, `ws://localhost:${b.port}/`));
    else s.write(switchingProtocols(key, 'Set-Cookie: after=1\r\n'));
  });
  const ws = await connect(a.url, { ...base, followRedirects: true, cookies: jar, headers: { Cookie: 'mine=0' } });
  ws.terminate();
  t.notMatch(a.requests[0], /Cookie: .*sid/, 'nothing in the jar at first');
  t.match(a.requests[1], /\r\nCookie: mine=0; sid=abc; theme=dark, blue\r\n/, 'same origin: own Cookie and the jar');
  t.notMatch(b.requests[0], /Cookie/, '127.0.0.1 cookies do not go to localhost, and own Cookie is dropped');
  t.equal(jar.getCookieString(`ws://localhost:${b.port}/`), 'fromB=2', 'the 101 Set-Cookie was stored');
  const again = await connect(a.url, { ...base, followRedirects: true, cookies: jar });
  again.terminate();
  t.match(a.requests[2], /\r\nCookie: sid=abc; theme=dark, blue\r\n/, 'a later connect sends them');
  t.equal(jar.getCookieString(a.url), 'sid=abc; theme=dark, blue; after=1', "and this 101's Set-Cookie is stored");
});

t.test('a duck-typed asynchronous jar (tough-cookie shape)', async (t) => {
  const calls: string[] = [];
  const jar = {
    async getCookieString(url: string): Promise<string> {
      calls.push(`get ${url}`);
      return 'async=1';
    },
    async setCookie(header: string, url: string): Promise<void> {
      calls.push(`set ${header} ${url}`);
      if (header.startsWith('bad')) throw new Error('rejected by the jar');
    },
  };
  const b = await final(t, 'Set-Cookie: bad=1\r\nSet-Cookie: ok=2\r\n');
  (await connect(b.url, { ...base, cookies: jar })).terminate();
  t.match(b.requests[0], /\r\nCookie: async=1\r\n/);
  t.same(calls, [`get ${b.url}`, `set bad=1 ${b.url}`, `set ok=2 ${b.url}`], 'a cookie the jar rejects does not fail the connection');
  await t.rejects(connect(b.url, { ...base, cookies: {} as never }), { code: 'ERR_WS_INVALID_ARGUMENT' });
});

t.test('over HTTP/2: a 3xx to the extended CONNECT is followed, its Set-Cookie fields stored', async (t) => {
  const { echoServer } = await import('../http2/helpers.js');
  const http2 = await import('node:http2');
  const target = await echoServer(t);
  const mover = http2.createServer({ settings: { enableConnectProtocol: true } });
  mover.on('stream', (stream) => stream.respond({ ':status': 307, location: `${target.url}moved`, 'set-cookie': ['a=1', 'b=2'] }, { endStream: true }));
  await new Promise<void>((r) => mover.listen(0, '127.0.0.1', r));
  t.teardown(() => mover.close());
  const port = (mover.address() as import('node:net').AddressInfo).port;
  const jar = new CookieJar();
  const ws = await connect(`ws://127.0.0.1:${port}/`, { ...base, http: '2', followRedirects: true, cookies: jar });
  t.equal(ws.httpVersion, '2');
  t.equal(ws.url, `${target.url}moved`);
  t.equal(jar.getCookieString(target.url), 'a=1; b=2');
  ws.close();
  const err = await failure(connect(`ws://127.0.0.1:${port}/`, { ...base, http: '2' }));
  t.equal(err.status, 307);
  t.equal(err.location, `${target.url}moved`);
});
