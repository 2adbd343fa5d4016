// Issue 15: the built-in cookie jar's RFC 6265 rules and bounds.
import t from 'tap';
import { CookieJar } from '../../lib/http/cookie-jar.js';

function jarAt(time = { now: 1_000_000 }): { jar: CookieJar; time: { now: number } } {
  return { jar: new CookieJar({ now: () => time.now }), time };
}

t.test('host-only, Domain, Path and Secure', async (t) => {
  const { jar } = jarAt();
  jar.setCookie('host=1', 'ws://www.example.com/app/socket');
  jar.setCookie('dom=2; Domain=.example.com; Path=/', 'ws://www.example.com/');
  jar.setCookie('sec=3; Secure; Path=/', 'wss://www.example.com/');
  jar.setCookie('insecure-secure=4; Secure', 'ws://www.example.com/');
  jar.setCookie('foreign=5; Domain=other.com', 'ws://www.example.com/');
  jar.setCookie('tld=6; Domain=com', 'ws://www.example.com/');
  jar.setCookie('deep=7; Path=/app/socket/x', 'ws://www.example.com/');
  t.equal(jar.getCookieString('ws://www.example.com/app/x'), 'host=1; dom=2', 'default path /app; secure not over ws');
  t.equal(jar.getCookieString('wss://www.example.com/app/socket/x/y'), 'deep=7; host=1; dom=2; sec=3', 'longer paths first');
  t.equal(jar.getCookieString('ws://api.example.com/'), 'dom=2', 'Domain cookies go to subdomains, host-only ones do not');
  t.equal(jar.getCookieString('ws://www.example.com/application'), 'dom=2', '/app does not path-match /application');
  t.equal(jar.getCookieString('ws://other.com/'), '');
  t.equal(jar.size, 4);
});

t.test('IP hosts, replacement, attributes with odd case and spacing', async (t) => {
  const { jar } = jarAt();
  jar.setCookie('a=1; domain=127.0.0.1', 'ws://127.0.0.1:8080/');
  jar.setCookie('b=2; Domain=0.0.1', 'ws://127.0.0.1/');
  jar.setCookie('a=changed ;  PATH=/', 'ws://127.0.0.1/');
  jar.setCookie('novalue', 'ws://127.0.0.1/');
  jar.setCookie('=empty', 'ws://127.0.0.1/');
  t.equal(jar.getCookieString('ws://127.0.0.1:9/'), 'a=changed', 'cookies ignore ports; a suffix of an IP is no domain');
});

t.test('Expires and Max-Age (Max-Age wins), deletion by a past date', async (t) => {
  const { jar, time } = jarAt({ now: Date.parse('2030-01-01T00:00:00Z') });
  jar.setCookie('e=1; Expires=Wed, 02 Jan 2030 00:00:00 GMT', 'ws://h.example/');
  jar.setCookie('m=2; Max-Age=60; Expires=Thu, 01 Jan 2099 00:00:00 GMT', 'ws://h.example/');
  jar.setCookie('s=3', 'ws://h.example/');
  t.equal(jar.getCookieString('ws://h.example/'), 'e=1; m=2; s=3');
  time.now += 61_000;
  t.equal(jar.getCookieString('ws://h.example/'), 'e=1; s=3', 'Max-Age 60 expired after 61 s');
  jar.setCookie('e=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'ws://h.example/');
  jar.setCookie('s=gone; Max-Age=0', 'ws://h.example/');
  t.equal(jar.getCookieString('ws://h.example/'), '');
  t.equal(jar.size, 0);
});

t.test('bounds: size per cookie, per domain, in all', async (t) => {
  const jar = new CookieJar({ maxCookies: 10, maxCookiesPerDomain: 3, maxCookieSize: 100 });
  jar.setCookie(`big=${'x'.repeat(200)}`, 'ws://a.example/');
  t.equal(jar.size, 0, 'a cookie over maxCookieSize is ignored');
  for (let i = 0; i < 5; i++) jar.setCookie(`c${i}=${i}`, 'ws://a.example/');
  t.equal(jar.getCookieString('ws://a.example/'), 'c2=2; c3=3; c4=4', 'the oldest of a domain go first');
  for (let d = 0; d < 20; d++) jar.setCookie('x=1', `ws://d${d}.example/`);
  t.equal(jar.size, 10, 'never more than maxCookies');
  t.equal(jar.getCookieString('ws://d19.example/'), 'x=1', 'the newest are kept');
  t.equal(jar.getCookieString('ws://a.example/'), '', 'the oldest were evicted');
  const many = new CookieJar();
  for (let i = 0; i < 10_000; i++) many.setCookie(`k${i}=v`, `ws://h${i % 500}.example/`);
  t.ok(many.size <= 3000, `10 000 cookies from a hostile server keep ${many.size} (3000 at most)`);
});
