// Issue 15: the redirect rules of the upgrade request.
import t from 'tap';
import { redirectTarget, sameOrigin, withoutCredentials } from '../../lib/http/redirect.js';

const from = new URL('wss://a.example:8443/chat/room?x=1');

t.test('Location resolved, mapped to ws(s), fragment dropped', async (t) => {
  t.equal(redirectTarget(from, '/other')?.href, 'wss://a.example:8443/other');
  t.equal(redirectTarget(from, 'lobby?y=2')?.href, 'wss://a.example:8443/chat/lobby?y=2');
  t.equal(redirectTarget(from, 'https://b.example/ws#frag')?.href, 'wss://b.example/ws');
  t.equal(redirectTarget(from, 'http://b.example:81/')?.href, 'ws://b.example:81/');
  t.equal(redirectTarget(from, '//c.example/x')?.href, 'wss://c.example/x');
  t.equal(redirectTarget(from, 'ftp://b.example/'), undefined);
  t.equal(redirectTarget(from, 'http://'), undefined);
  t.equal(redirectTarget(from, ''), undefined);
  t.equal(redirectTarget(from, undefined), undefined);
});

t.test('origin and credentials', async (t) => {
  t.ok(sameOrigin(new URL('wss://a.example/'), new URL('wss://a.example:443/x')));
  t.notOk(sameOrigin(new URL('wss://a.example/'), new URL('ws://a.example/')), 'wss to ws leaves the origin');
  t.notOk(sameOrigin(new URL('ws://a.example/'), new URL('ws://a.example:81/')));
  t.notOk(sameOrigin(new URL('ws://a.example/'), new URL('ws://b.example/')));
  t.same(withoutCredentials({ Authorization: 'x', cookie: 'y', 'Proxy-Authorization': 'z', 'X-Keep': '1' }), { 'X-Keep': '1' });
});
