// rfcws connect --proxy / --no-proxy / --follow-redirects.
import t from 'tap';
import { connectProxy } from '../helpers/connect-proxy.js';
import { scriptedServer } from '../helpers/raw-server.js';
import { echoServer } from '../http2/helpers.js';
import { run } from './helpers.js';

t.test('--proxy tunnels through the proxy; its refusal is one line and exit 1', async (t) => {
  const { port, url } = await echoServer(t);
  const proxy = await connectProxy(t);
  const r = run(t, ['connect', url, '--proxy', `http://me:pw@127.0.0.1:${proxy.port}`, '-x', 'hello']);
  t.equal(await r.exited, 0);
  t.equal(r.out(), 'hello\n');
  t.equal(proxy.requests[0], `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nProxy-Authorization: Basic ${Buffer.from('me:pw').toString('base64')}\r\n\r\n`);

  const refusing = await connectProxy(t, (s) => {
    s.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n');
    return true;
  });
  const refused = run(t, ['connect', url, '--proxy', refusing.url, '-x', 'hello']);
  t.equal(await refused.exited, 1);
  t.match(refused.err(), new RegExp(`^rfcws: the proxy http://127\\.0\\.0\\.1:${refusing.port} refused the tunnel to 127\\.0\\.0\\.1:${port} with 407 Proxy Authentication Required`));
  t.equal(refused.err().split('\n').length, 2, 'one line');
});

t.test('HTTP_PROXY applies unless --no-proxy; --proxy with --no-proxy is a usage error', async (t) => {
  const { url } = await echoServer(t);
  const proxy = await connectProxy(t);
  const saved = process.env.HTTP_PROXY;
  process.env.HTTP_PROXY = proxy.url;
  const viaEnv = run(t, ['connect', url, '-x', 'env']);
  const direct = run(t, ['connect', url, '--no-proxy', '-x', 'direct']);
  const both = run(t, ['connect', url, '--no-proxy', '--proxy', proxy.url, '-x', 'x']);
  if (saved === undefined) delete process.env.HTTP_PROXY;
  else process.env.HTTP_PROXY = saved;
  t.equal(await viaEnv.exited, 0);
  t.equal(await direct.exited, 0);
  t.equal(direct.out(), 'direct\n');
  t.equal(proxy.requests.length, 1, 'only the first went through the proxy');
  t.equal(await both.exited, 2);
  t.match(both.err(), /--proxy and --no-proxy are one choice/);
});

t.test('--follow-redirects', async (t) => {
  const { url } = await echoServer(t);
  const mover = await scriptedServer(t, (s) => s.end(`HTTP/1.1 302 Found\r\nLocation: ${url}\r\nContent-Length: 0\r\n\r\n`));
  const followed = run(t, ['connect', mover.url, '--follow-redirects', '-x', 'moved']);
  t.equal(await followed.exited, 0);
  t.equal(followed.out(), 'moved\n');
  const not = run(t, ['connect', mover.url, '-x', 'moved']);
  t.equal(await not.exited, 1);
  t.match(not.err(), /302.*redirects to ws:\/\/127\.0\.0\.1:\d+\/ \(pass followRedirects: true to follow\)/);
});
