// Every refused extended CONNECT gets an HTTP/2 response (or nghttp2's stream reset) and the session goes on.
import { once } from 'node:events';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { HandshakeError, UpgradeRejection } from '../../lib/errors.js';
import { failure } from '../helpers/failure.js';
import { connectHeaders, echoServer, exchangeStream, h2Frame, hpackLiterals, parseFrames, rawSession, tcp, until } from './helpers.js';

t.test('bad CONNECT shapes: statuses and bodies, all on one session that survives them', async (t) => {
  const { server, port } = await echoServer(t, { path: '/ws' });
  const rejected: number[] = [];
  server.on('rejected', (status) => rejected.push(status));
  const session = await rawSession(t, port);
  const cases: Array<[string, Record<string, string | null>, number, Record<string, string>?]> = [
    ['GET', { ':method': 'GET', ':protocol': null, 'sec-websocket-version': null }, 405, { allow: 'CONNECT' }],
    ['CONNECT without :protocol', { ':protocol': null, ':scheme': null, ':path': null }, 400],
    ['another :protocol', { ':protocol': 'connect-udp', ':path': '/ws' }, 501],
    ['path not served', { ':path': '/other' }, 404],
    ['a malformed sec-websocket-key', { ':path': '/ws', 'sec-websocket-key': 'not a key' }, 400],
    ['no sec-websocket-version', { ':path': '/ws', 'sec-websocket-version': null }, 400, { 'sec-websocket-version': '13' }],
    ['sec-websocket-version 8', { ':path': '/ws', 'sec-websocket-version': '8' }, 400, { 'sec-websocket-version': '13' }],
    ['a body announced', { ':path': '/ws', 'content-length': '5' }, 400],
    ['malformed subprotocol list', { ':path': '/ws', 'sec-websocket-protocol': 'a b' }, 400],
  ];
  for (const [name, extra, status, headers] of cases) {
    const res = await exchangeStream(session, connectHeaders(extra));
    t.equal(res.status, status, `${name}: ${status}`);
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8', `${name}: text/plain body`);
    t.ok(res.body.length > 0, `${name}: says why (${res.body})`);
    for (const [k, v] of Object.entries(headers ?? {})) t.equal(res.headers[k], v, `${name}: ${k}: ${v}`);
  }
  t.same(rejected, cases.map((c) => c[2]), "'rejected' emitted for each");
  const good = session.request(connectHeaders({ ':path': '/ws' }), { endStream: false });
  const [okHeaders] = await once(good, 'response');
  t.equal(okHeaders[':status'], 200, 'a good CONNECT on the same session still succeeds');
  good.close();
  t.notOk(session.destroyed, 'the session survived every refusal');
});

t.test('a sec-websocket-key sent anyway (undici does): 200 with its sec-websocket-accept; none without a key', async (t) => {
  const { port } = await echoServer(t, { path: '/ws' });
  const session = await rawSession(t, port);
  const withKey = session.request(connectHeaders({ ':path': '/ws', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }), { endStream: false });
  const [h1] = await once(withKey, 'response');
  t.equal(h1[':status'], 200);
  t.equal(h1['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'the RFC 6455 §1.3 example key and accept');
  const without = session.request(connectHeaders({ ':path': '/ws' }), { endStream: false });
  const [h2] = await once(without, 'response');
  t.equal(h2[':status'], 200);
  t.equal(h2['sec-websocket-accept'], undefined, 'RFC 8441 §5: no key, no accept');
  withKey.close();
  without.close();
});

t.test('missing :scheme, :path or :authority: nghttp2 resets the stream (PROTOCOL_ERROR), the connection goes on', async (t) => {
  const { port } = await echoServer(t);
  const socket = await tcp(port);
  t.teardown(() => socket.destroy());
  const received: Buffer[] = [];
  socket.on('data', (c: Buffer) => received.push(c));
  socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  socket.write(h2Frame(4, 0, 0, Buffer.alloc(0)));
  const base: Array<[string, string]> = [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'http'], [':path', '/'], [':authority', 'x'], ['sec-websocket-version', '13']];
  const without = (name: string): Array<[string, string]> => base.filter(([n]) => n !== name);
  socket.write(h2Frame(1, 0x4, 1, hpackLiterals(without(':scheme'))));
  socket.write(h2Frame(1, 0x4, 3, hpackLiterals(without(':path'))));
  socket.write(h2Frame(1, 0x4, 5, hpackLiterals(without(':authority'))));
  socket.write(h2Frame(1, 0x4, 7, hpackLiterals(base)));
  await until(() => parseFrames(Buffer.concat(received)).some((f) => f.type === 1 && f.stream === 7));
  const frames = parseFrames(Buffer.concat(received));
  for (const id of [1, 3, 5]) {
    const rst = frames.find((f) => f.type === 3 && f.stream === id);
    t.ok(rst, `stream ${id} reset`);
    t.equal(rst?.payload.readUInt32BE(0), 1, `stream ${id}: PROTOCOL_ERROR`);
  }
  const headers = frames.find((f) => f.type === 1 && f.stream === 7)!;
  t.equal(headers.payload[0], 0x88, 'the well-formed stream 7 is answered :status 200 (static table index 8)');
  t.notOk(frames.some((f) => f.type === 7), 'no GOAWAY');
});

t.test('our client sees 403 (Origin), 404 (path) and authorize 401 with headers and body as HandshakeError', async (t) => {
  const { url } = await echoServer(t, {
    path: '/ws',
    allowedOrigins: ['https://app.example'],
    authorize: (req) => {
      if (req.headers['authorization'] === 'Bearer good') return true;
      throw new UpgradeRejection(401, 'token required', { 'WWW-Authenticate': 'Bearer realm="ws"', 'X-Trace': 'abc' }, '{"error":"token required"}');
    },
  });
  const opts = { http: '2' as const, keepAliveInterval: 0 };
  const origin = await failure<HandshakeError>(connect(`${url}ws`, { ...opts, origin: 'https://evil.example' }));
  t.equal(origin.code, 'ERR_WS_UPGRADE_STATUS');
  t.equal(origin.status, 403);
  t.equal(origin.body?.toString(), 'Origin not allowed');
  const path = await failure<HandshakeError>(connect(`${url}nope`, { ...opts, origin: 'https://app.example' }));
  t.equal(path.status, 404);
  t.match(path.body?.toString(), /No WebSocket endpoint at \/nope/);
  const auth = await failure<HandshakeError>(connect(`${url}ws`, { ...opts, origin: 'https://app.example' }));
  t.ok(auth instanceof HandshakeError);
  t.equal(auth.code, 'ERR_WS_UPGRADE_STATUS');
  t.equal(auth.status, 401);
  t.equal(auth.headers?.['www-authenticate'], 'Bearer realm="ws"', 'authorize headers, lower-cased');
  t.equal(auth.headers?.['x-trace'], 'abc');
  t.equal(auth.body?.toString(), '{"error":"token required"}');
  const ws = await connect(`${url}ws`, { ...opts, origin: 'https://app.example', headers: { Authorization: 'Bearer good' } });
  t.equal(ws.httpVersion, '2', 'and with the token it opens');
  ws.close();
  await once(ws, 'close');
});
