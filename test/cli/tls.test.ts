// wss:// from the command line: serve --tls-cert/--tls-key, connect --ca / --insecure /
// --cert --key, and the one-line errors for an untrusted certificate and a ws/wss mismatch.
// Certificates are made by openssl in the test; skipped where openssl is missing.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { WebSocketServer } from '../../lib/server/server.js';
import { OPENSSL_SKIP, run, selfSigned, serveCli, stop, tempDir } from './helpers.js';

t.test('TLS', { skip: OPENSSL_SKIP }, async (t) => {
  const dir = tempDir(t);
  const server = selfSigned(dir, 'server');
  const wss = await serveCli(t, ['--tls-cert', server.cert, '--tls-key', server.key, '--quiet']);
  const plain = await serveCli(t, ['--quiet']);
  t.teardown(async () => {
    await stop(wss);
    await stop(plain);
  });

  t.test('--ca trusts a self-signed certificate', async (t) => {
    const r = run(t, ['connect', wss.url, '--ca', server.cert, '-x', 'secure']);
    t.equal(await r.exited, 0);
    t.equal(r.out(), 'secure\n');
  });

  t.test('--insecure skips verification', async (t) => {
    const r = run(t, ['connect', wss.url, '--insecure', '-x', 'anyway']);
    t.equal(await r.exited, 0);
    t.equal(r.out(), 'anyway\n');
  });

  t.test('an untrusted certificate: one line that mentions --ca and --insecure', async (t) => {
    const r = run(t, ['connect', wss.url, '-x', 'no']);
    t.equal(await r.exited, 1);
    t.equal(
      r.err(),
      "rfcws: the server's certificate is not trusted (self-signed certificate): pass --ca FILE to trust its certificate (or the CA that signed it), or --insecure to skip verification\n",
    );
  });

  t.test('a trusted certificate for another name says so', async (t) => {
    const other = selfSigned(dir, 'other', 'DNS:elsewhere.test');
    const elsewhere = new WebSocketServer({ port: 0, host: '127.0.0.1', keepAliveInterval: 0, tls: { cert: readFileSync(other.cert), key: readFileSync(other.key) } });
    const { port } = await elsewhere.listen();
    t.teardown(() => elsewhere.close(100));
    const r = run(t, ['connect', `wss://127.0.0.1:${port}/`, '--ca', other.cert, '-x', 'no']);
    t.equal(await r.exited, 1);
    t.match(r.err(), /^rfcws: the server's certificate is not for "127\.0\.0\.1" \([^\n]*\): connect by a name it lists, or --insecure to skip verification\n$/);
  });

  t.test('wss:// to a plain server: "is it ws:// rather than wss://?", no OpenSSL internals', async (t) => {
    const url = plain.url.replace('ws://', 'wss://');
    const { port } = new URL(url);
    const r = run(t, ['connect', url, '-x', 'no']);
    t.equal(await r.exited, 1);
    t.equal(r.err(), `rfcws: the server did not answer TLS: is it ws:// rather than wss://? (127.0.0.1:${port})\n`);
  });

  t.test('ws:// to a TLS server: the hint the other way round', async (t) => {
    const r = run(t, ['connect', wss.url.replace('wss://', 'ws://'), '-x', 'no']);
    t.equal(await r.exited, 1);
    t.match(r.err(), /^rfcws: [^\n]*\(is it wss:\/\/ rather than ws:\/\/\?\)\n$/);
  });

  t.test('--cert/--key present a client certificate to a server that requires one', async (t) => {
    const client = selfSigned(dir, 'client');
    const mtls = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      keepAliveInterval: 0,
      tls: { cert: readFileSync(server.cert), key: readFileSync(server.key), requestCert: true, rejectUnauthorized: true, ca: readFileSync(client.cert) },
    });
    mtls.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    const { port } = await mtls.listen();
    t.teardown(() => mtls.close(100));
    const url = `wss://127.0.0.1:${port}/`;
    const withCert = run(t, ['connect', url, '--ca', server.cert, '--cert', client.cert, '--key', client.key, '-x', 'mutual']);
    t.equal(await withCert.exited, 0);
    t.equal(withCert.out(), 'mutual\n');
    const without = run(t, ['connect', url, '--ca', server.cert, '-x', 'no']);
    t.equal(await without.exited, 1, 'refused without a client certificate');
    t.equal(without.err(), 'rfcws: the server requires a client certificate: pass --cert FILE and --key FILE\n');
  });
});
