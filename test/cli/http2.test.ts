// WebSockets over HTTP/2 from the command line: serve with TLS answers h2 and HTTP/1.1 on one
// port, serve --h2c does the same in cleartext, connect --http2 / --http auto choose, and the
// server's log says which protocol each connection used.
import t from 'tap';
import { OPENSSL_SKIP, run, selfSigned, serveCli, stop, tempDir } from './helpers.js';

t.test('serve --tls-cert/--tls-key: HTTP/2 and HTTP/1.1 on one port, logged per connection', { skip: OPENSSL_SKIP }, async (t) => {
  const dir = tempDir(t);
  const cert = selfSigned(dir, 'server');
  const server = await serveCli(t, ['--tls-cert', cert.cert, '--tls-key', cert.key]);
  t.teardown(() => stop(server));
  t.match(server.out(), /listening on wss:\/\/\S+ \(HTTP\/2 and HTTP\/1\.1\)/);

  const h2 = run(t, ['connect', server.url, '--ca', cert.cert, '--http2', '-x', 'over h2']);
  t.equal(await h2.exited, 0);
  t.equal(h2.out(), 'over h2\n');
  t.match(h2.err(), /connected to wss:\/\/\S+ over HTTP\/2/);
  await server.waitOut(/open  \S+ path=\/.* http=2\n/);

  const h1 = run(t, ['connect', server.url, '--ca', cert.cert, '-x', 'over 1.1']);
  t.equal(await h1.exited, 0);
  t.equal(h1.out(), 'over 1.1\n');
  t.notMatch(h1.err(), /over HTTP\/2/);
  await server.waitOut(/open  \S+ path=\/.* http=1\.1\n/);

  const auto = run(t, ['connect', server.url, '--ca', cert.cert, '--http', 'auto', '--show-headers', '-x', 'auto']);
  t.equal(await auto.exited, 0);
  t.equal(auto.out(), 'auto\n');
  t.match(auto.err(), /^HTTP\/2 200\n/m, '--show-headers prints the HTTP/2 response');
});

t.test('serve --h2c: cleartext HTTP/2 beside HTTP/1.1', async (t) => {
  const server = await serveCli(t, ['--h2c']);
  t.teardown(() => stop(server));
  const h2 = run(t, ['connect', server.url, '--http2', '-x', 'h2c']);
  t.equal(await h2.exited, 0);
  t.equal(h2.out(), 'h2c\n');
  await server.waitOut(/open  .* http=2\n/);
  // ws:// has no ALPN to ask: auto stays on HTTP/1.1.
  const auto = run(t, ['connect', server.url, '--http', 'auto', '-x', 'plain']);
  t.equal(await auto.exited, 0);
  await server.waitOut(/open  .* http=1\.1\n/);
});

t.test('connect --http2 to a server without HTTP/2 fails in one line', async (t) => {
  const server = await serveCli(t, ['--quiet']);
  t.teardown(() => stop(server));
  const r = run(t, ['connect', server.url, '--http2', '-x', 'no']);
  t.equal(await r.exited, 1);
  t.match(r.err(), /^rfcws: .*HTTP\/2[^\n]*\n$/);
});

t.test('usage errors: --http takes 1.1, 2 or auto; --h2c is for cleartext', async (t) => {
  const a = run(t, ['connect', 'ws://127.0.0.1:1/', '--http', '3']);
  t.equal(await a.exited, 2);
  t.match(a.err(), /--http takes 1\.1, 2 or auto/);
  const b = run(t, ['connect', 'ws://127.0.0.1:1/', '--http', '2', '--http2']);
  t.equal(await b.exited, 2);
  const dir = tempDir(t);
  const cert = selfSigned(dir, 'server');
  const c = run(t, ['serve', '--port', '0', '--h2c', '--tls-cert', cert.cert, '--tls-key', cert.key]);
  t.equal(await c.exited, 2);
  t.match(c.err(), /--h2c is for cleartext/);
});
