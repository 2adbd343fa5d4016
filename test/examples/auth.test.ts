// examples/auth as its own process: tokens in a Bearer header or a session cookie are
// checked before the 101, and a connection is closed with 4001 when its token expires.
import t from 'tap';
import { once } from 'node:events';
import { connect, HandshakeError } from '../../lib/index.js';
import { issueToken } from '../../examples/auth/tokens.js';
import { startExample } from './start.js';

// The example signs with AUTH_SECRET when it is set, so the test can issue tokens too.
const SECRET = 'test-secret-for-the-auth-example';
const HOUR = 60 * 60 * 1000;

const { match } = await startExample(t, 'auth', /listening on (ws:\/\/\S+)/, { AUTH_SECRET: SECRET });
const url = match[1]!;

/** The HandshakeError of a refused connect(). */
async function refusal(headers: Record<string, string>): Promise<HandshakeError> {
  const err: unknown = await connect(url, { headers, keepAliveInterval: 0 }).then(
    (ws) => {
      ws.terminate();
      throw new Error('the upgrade was accepted');
    },
    (e: unknown) => e,
  );
  if (!(err instanceof HandshakeError)) throw err;
  return err;
}

t.test('no token: 401 with a body that says what to send', async (t) => {
  const err = await refusal({});
  t.equal(err.status, 401);
  t.equal(err.code, 'ERR_WS_UPGRADE_STATUS');
  t.match(err.headers?.['www-authenticate'], /^Bearer /);
  t.equal(err.body?.toString(), 'Missing token: send "Authorization: Bearer <token>" or a "session" cookie.\n');
});

t.test('bad tokens: 401 invalid_token', async (t) => {
  const valid = issueToken(SECRET, 'mallory', HOUR);
  const bad = {
    'garbage': 'not-a-token',
    'signed with another secret': issueToken('another secret', 'mallory', HOUR),
    'payload changed after signing': `${Buffer.from(JSON.stringify({ user: 'admin', expiresAt: Date.now() + HOUR })).toString('base64url')}.${valid.split('.')[1]}`,
    'expired': issueToken(SECRET, 'mallory', -1000),
  };
  for (const [what, token] of Object.entries(bad)) {
    const err = await refusal({ authorization: `Bearer ${token}` });
    t.equal(err.status, 401, what);
    t.match(err.headers?.['www-authenticate'], /error="invalid_token"/, what);
    t.equal(err.body?.toString(), 'Invalid or expired token: log in again for a new one.\n', what);
  }
  const cookie = await refusal({ cookie: 'session=not-a-token' });
  t.equal(cookie.status, 401, 'a bad cookie');
});

t.test('a valid Bearer token connects, and messages are echoed', async (t) => {
  const ws = await connect(url, { headers: { authorization: `Bearer ${issueToken(SECRET, 'alice', HOUR)}` }, keepAliveInterval: 0 });
  ws.send('hello');
  const [data, isBinary] = await once(ws, 'message');
  t.equal(data.toString(), 'hello');
  t.equal(isBinary, false);
  ws.send(Buffer.from([1, 2, 3]));
  const [bin, isBinary2] = await once(ws, 'message');
  t.same([...bin], [1, 2, 3]);
  t.equal(isBinary2, true);
  ws.close(1000, 'bye');
  const [code] = await once(ws, 'close');
  t.equal(code, 1000);
});

t.test('a valid session cookie connects (among other cookies)', async (t) => {
  const ws = await connect(url, { headers: { cookie: `theme=dark; session=${issueToken(SECRET, 'bob', HOUR)}` }, keepAliveInterval: 0 });
  ws.send('via cookie');
  const [data] = await once(ws, 'message');
  t.equal(data.toString(), 'via cookie');
  ws.close(1000);
  await once(ws, 'close');
});

t.test('a browser page from an origin not listed with --origin is refused, cookie or not', async (t) => {
  const err: unknown = await connect(url, {
    origin: 'https://evil.example',
    headers: { cookie: `session=${issueToken(SECRET, 'bob', HOUR)}` },
  }).catch((e: unknown) => e);
  t.type(err, HandshakeError);
  t.equal((err as HandshakeError).status, 403);
});

t.test('when the token expires, the server closes with 4001 "session expired"', async (t) => {
  // About 300 ms: long enough for the handshake on a busy machine, short for the test.
  const ws = await connect(url, { headers: { authorization: `Bearer ${issueToken(SECRET, 'carol', 300)}` }, keepAliveInterval: 0 });
  ws.send('still here');
  const [data] = await once(ws, 'message');
  t.equal(data.toString(), 'still here');
  const [code, reason, wasClean] = await once(ws, 'close');
  t.equal(code, 4001);
  t.equal(reason, 'session expired');
  t.equal(wasClean, true);
});
