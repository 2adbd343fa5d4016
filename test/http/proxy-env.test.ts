// Issue 15: which proxy the environment names for a URL (curl's rules; undici's differences noted).
import t from 'tap';
import { bypassesProxy, proxyFromEnv } from '../../lib/http/proxy-env.js';

const u = (s: string): URL => new URL(s);

t.test('wss:// uses https_proxy, ws:// http_proxy; lower case wins; empty is unset', async (t) => {
  const env = { HTTPS_PROXY: 'http://up:1', https_proxy: 'http://low:1', HTTP_PROXY: 'http://plain:1' };
  t.equal(proxyFromEnv(u('wss://a.example/'), env), 'http://low:1');
  t.equal(proxyFromEnv(u('ws://a.example/'), env), 'http://plain:1');
  t.equal(proxyFromEnv(u('wss://a.example/'), { HTTP_PROXY: 'http://plain:1' }), undefined, 'no fallback to HTTP_PROXY for wss (curl)');
  t.equal(proxyFromEnv(u('ws://a.example/'), { http_proxy: ' ', HTTP_PROXY: 'http://x:1' }), undefined, 'an empty lower-case value still wins, and means none');
  t.equal(proxyFromEnv(u('ws://a.example/'), {}), undefined);
});

t.test('NO_PROXY entries', async (t) => {
  const cases: Array<[string, number, string, boolean]> = [
    ['example.com', 80, '*', true],
    ['example.com', 80, 'example.com', true],
    ['www.example.com', 80, 'example.com', true],
    ['notexample.com', 80, 'example.com', false],
    ['www.example.com', 80, '.example.com', true],
    ['example.com', 80, '.example.com', true],
    ['www.example.com', 80, '*.example.com', true],
    ['EXAMPLE.com', 80, 'example.COM.', true],
    ['example.com', 8080, 'example.com:8080', true],
    ['example.com', 80, 'example.com:8080', false],
    ['10.1.2.3', 80, '10.1.2.3', true],
    ['10.1.2.3', 80, '10.0.0.0/8', true],
    ['11.1.2.3', 80, '10.0.0.0/8', false],
    ['10.1.2.3', 80, '10.1', false],
    ['[::1]', 80, '::1', true],
    ['[::1]', 80, '[::1]:80', true],
    ['[::1]', 81, '[::1]:80', false],
    ['[2001:db8::5]', 443, '2001:db8::/32', true],
    ['a.example', 80, 'b.example , a.example', true],
    ['a.example', 80, 'b.example\tc.example', false],
    ['a.example', 80, ',,', false],
  ];
  for (const [host, port, noProxy, expected] of cases) {
    t.equal(bypassesProxy(host, port, noProxy), expected, `${host}:${port} with NO_PROXY=${JSON.stringify(noProxy)}`);
  }
  t.equal(proxyFromEnv(u('ws://internal.corp:81/'), { HTTP_PROXY: 'http://p:1', no_proxy: 'corp' }), undefined);
  t.equal(proxyFromEnv(u('ws://internal.corp:81/'), { HTTP_PROXY: 'http://p:1', NO_PROXY: 'corp:80' }), 'http://p:1', 'the default port counts');
  t.equal(proxyFromEnv(u('wss://internal.corp/'), { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'internal.corp:443' }), undefined);
});
