import { once } from 'node:events';
import * as net from 'node:net';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { HandshakeError } from '../../lib/errors.js';
import { WebSocketServer } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';
import { failure as failureOf } from '../helpers/failure.js';
import { OP, sframe } from '../helpers/frames.js';
import { acceptFor, switchingProtocols } from '../helpers/http.js';
import { scriptedServer, type Scripted } from '../helpers/raw-server.js';
import { selfSignedCert } from '../helpers/tls.js';
const failure = (p: Promise<unknown>): Promise<HandshakeError> => failureOf<HandshakeError>(p);

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

/**
 * A raw server that reads one request head and lets `script` answer with exact
 * bytes; the URL to dial has a path and a query.
 */
async function scripted(t: Test, script: Parameters<typeof scriptedServer>[1]): Promise<Scripted> {
  const server = await scriptedServer(t, script);
  server.url = `${server.url}path?q=1`;
  return server;
}

const switching = switchingProtocols;

t.test('writes the exact request and opens on a valid 101', async (t) => {
  const server = await scripted(t, (socket, _head, key) => socket.write(switching(key, 'Sec-WebSocket-Protocol: chat\r\n')));
  const ws = await connect(server.url, {
    protocols: ['chat', 'superchat'],
    origin: 'http://example.com',
    headers: { 'X-Token': 'abc', Cookie: 'a=1' },
    keepAliveInterval: 0,
  });
  t.teardown(() => ws.terminate());
  t.equal(ws.protocol, 'chat');
  t.equal(ws.extensions, '');
  t.equal(ws.url, server.url);
  const key = /Sec-WebSocket-Key: ([^\r]*)/.exec(server.requests[0])![1];
  t.equal(Buffer.from(key, 'base64').length, 16, 'key is 16 bytes');
  t.equal(
    server.requests[0],
    'GET /path?q=1 HTTP/1.1\r\n' +
      `Host: 127.0.0.1:${server.port}\r\n` +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${key}\r\n` +
      'Sec-WebSocket-Version: 13\r\n' +
      'Origin: http://example.com\r\n' +
      'Sec-WebSocket-Protocol: chat, superchat\r\n' +
      'X-Token: abc\r\n' +
      'Cookie: a=1\r\n' +
      '\r\n',
  );
});

t.test('keys differ between connections', async (t) => {
  const server = await scripted(t, (socket, _head, key) => socket.write(switching(key)));
  const a = await connect(server.url, { keepAliveInterval: 0 });
  const b = await connect(server.url, { keepAliveInterval: 0 });
  a.terminate();
  b.terminate();
  const keys = server.requests.map((r) => /Sec-WebSocket-Key: ([^\r]*)/.exec(r)![1]);
  t.not(keys[0], keys[1]);
});

t.test('a frame sent in the same packet as the 101 is delivered', async (t) => {
  const server = await scripted(t, (socket, _head, key) =>
    socket.write(Buffer.concat([Buffer.from(switching(key)), sframe({ opcode: OP.TEXT, payload: 'hello' })])),
  );
  const ws = await connect(server.url, { keepAliveInterval: 0 });
  t.teardown(() => ws.terminate());
  const [data, isBinary] = await once(ws, 'message');
  t.equal(String(data), 'hello');
  t.equal(isBinary, false);
});

t.test('response checks', async (t) => {
  const cases: Array<{ name: string; answer: (key: string) => string; code: string; options?: object }> = [
    {
      name: 'wrong accept',
      answer: () => switching('AAAAAAAAAAAAAAAAAAAAAA=='),
      code: 'ERR_WS_INVALID_ACCEPT',
    },
    {
      name: 'two accept headers',
      answer: (key) => switching(key, `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n`),
      code: 'ERR_WS_INVALID_ACCEPT',
    },
    {
      name: 'missing Upgrade',
      answer: (key) => `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
      code: 'ERR_WS_INVALID_RESPONSE',
    },
    {
      name: 'Upgrade: h2c',
      answer: (key) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
      code: 'ERR_WS_INVALID_RESPONSE',
    },
    {
      name: 'missing Connection',
      answer: (key) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
      code: 'ERR_WS_INVALID_RESPONSE',
    },
    {
      name: 'HTTP/1.0 101',
      answer: (key) => switching(key).replace('HTTP/1.1', 'HTTP/1.0'),
      code: 'ERR_WS_INVALID_RESPONSE',
    },
    {
      name: 'subprotocol when none offered',
      answer: (key) => switching(key, 'Sec-WebSocket-Protocol: chat\r\n'),
      code: 'ERR_WS_PROTOCOL_MISMATCH',
    },
    {
      name: 'subprotocol not among the offers',
      answer: (key) => switching(key, 'Sec-WebSocket-Protocol: other\r\n'),
      code: 'ERR_WS_PROTOCOL_MISMATCH',
      options: { protocols: ['chat'] },
    },
    {
      name: 'two subprotocols',
      answer: (key) => switching(key, 'Sec-WebSocket-Protocol: a, b\r\n'),
      code: 'ERR_WS_PROTOCOL_MISMATCH',
      options: { protocols: ['a', 'b'] },
    },
    {
      name: 'extension not offered',
      answer: (key) => switching(key, 'Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n'),
      code: 'ERR_WS_EXTENSION_MISMATCH',
    },
    {
      name: 'permessage-deflate when not offered',
      answer: (key) => switching(key, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'),
      code: 'ERR_WS_EXTENSION_MISMATCH',
    },
    {
      name: 'an unknown extension next to the offered one',
      answer: (key) => switching(key, 'Sec-WebSocket-Extensions: permessage-deflate, x-other\r\n'),
      code: 'ERR_WS_EXTENSION_MISMATCH',
      options: { perMessageDeflate: true },
    },
    {
      name: 'malformed status line',
      answer: () => 'HTTP/1.1 1O1 Switching\r\n\r\n',
      code: 'ERR_WS_INVALID_RESPONSE',
    },
    {
      name: 'response head too large',
      answer: (key) => switching(key, `X-Big: ${'a'.repeat(2000)}\r\n`.repeat(10)),
      code: 'ERR_WS_RESPONSE_TOO_LARGE',
    },
    {
      name: 'response header line too long',
      answer: (key) => switching(key, `X-Big: ${'a'.repeat(100)}\r\n`),
      code: 'ERR_WS_RESPONSE_TOO_LARGE',
      options: { maxHeaderLineLength: 64 },
    },
    {
      name: 'too many response headers',
      answer: (key) => switching(key, 'X-A: 1\r\n'.repeat(10)),
      code: 'ERR_WS_RESPONSE_TOO_LARGE',
      options: { maxHeaders: 8 },
    },
  ];
  for (const c of cases) {
    const server = await scripted(t, (socket, _head, key) => socket.write(c.answer(key)));
    const err = await failure(connect(server.url, { keepAliveInterval: 0, ...c.options }));
    t.type(err, HandshakeError, c.name);
    t.equal(err.code, c.code, c.name);
  }
});

t.test('a refusal carries status, lower-cased headers and the body', async (t) => {
  const body = 'you shall not pass';
  const server = await scripted(t, (socket) =>
    socket.write(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nX-Reason: Banned\r\nContent-Length: ${body.length}\r\n\r\n${body}`),
  );
  const err = await failure(connect(server.url, { keepAliveInterval: 0 }));
  t.equal(err.code, 'ERR_WS_UPGRADE_STATUS');
  t.equal(err.status, 403);
  t.same({ ...err.headers }, { 'content-type': 'text/plain', 'x-reason': 'Banned', 'content-length': String(body.length) });
  t.equal(err.body?.toString(), body, 'stops at Content-Length while the socket stays open');
  t.match(err.message, /403 Forbidden/);
});

t.test('refusal bodies: chunked, until close, bounded, split across packets', async (t) => {
  const chunked = await scripted(t, (socket) =>
    socket.write('HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\nRetry-After: 5\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'),
  );
  const a = await failure(connect(chunked.url));
  t.equal(a.status, 503);
  t.equal(a.headers?.['retry-after'], '5');
  t.equal(a.body?.toString(), 'hello world');

  const untilClose = await scripted(t, (socket) => {
    socket.write('HTTP/1.1 500 Oops\r\n\r\npart one, ');
    setTimeout(() => socket.end('part two'), 20);
  });
  const b = await failure(connect(untilClose.url));
  t.equal(b.body?.toString(), 'part one, part two');

  const huge = await scripted(t, (socket) => socket.write(`HTTP/1.1 404 Not Found\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(100000)}`));
  const c = await failure(connect(huge.url));
  t.equal(c.body?.length, 4096, 'body capped at 4 KiB');

  const noBody = await scripted(t, (socket) => socket.write('HTTP/1.1 204 No Content\r\n\r\n'));
  const d = await failure(connect(noBody.url));
  t.equal(d.status, 204);
  t.equal(d.body?.length, 0);
});

t.test('handshake timeout when the server never answers', async (t) => {
  const server = await scripted(t, () => {});
  const err = await failure(connect(server.url, { handshakeTimeout: 100 }));
  t.equal(err.code, 'ERR_WS_HANDSHAKE_TIMEOUT');
});

t.test('handshake timeout when the server stops mid-head', async (t) => {
  const server = await scripted(t, (socket) => socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgr'));
  const err = await failure(connect(server.url, { handshakeTimeout: 100 }));
  t.equal(err.code, 'ERR_WS_HANDSHAKE_TIMEOUT');
});

t.test('network errors: refused connection, server closes before answering', async (t) => {
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const refused = await failure(connect(`ws://127.0.0.1:${port}/`));
  t.equal(refused.code, 'ERR_WS_CONNECT');
  t.equal((refused.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');

  const hangup = await scripted(t, (socket) => socket.end());
  const early = await failure(connect(hangup.url));
  t.equal(early.code, 'ERR_WS_CONNECT');
  t.type(early.cause, Error);
});

t.test('invalid arguments are rejected before dialing', async (t) => {
  const server = await scripted(t, (socket, _head, key) => socket.write(switching(key)));
  const bad: Array<[string, string, object]> = [
    ['CR/LF in a header value', server.url, { headers: { 'X-A': 'a\r\nInjected: 1' } }],
    ['LF in a header value', server.url, { headers: { 'X-A': 'a\nb' } }],
    ['bad header name', server.url, { headers: { 'X A': 'b' } }],
    ['handshake header override', server.url, { headers: { 'Sec-WebSocket-Key': 'x' } }],
    ['subprotocol with a space', server.url, { protocols: ['a b'] }],
    ['subprotocol with CRLF', server.url, { protocols: ['a\r\nX: y'] }],
    ['empty subprotocol', server.url, { protocols: [''] }],
    ['duplicate subprotocols', server.url, { protocols: ['a', 'a'] }],
    ['CR/LF in origin', server.url, { origin: 'http://a\r\nX: y' }],
    ['ftp scheme', `ftp://127.0.0.1:${server.port}/`, {}],
    ['fragment', `${server.url}#frag`, {}],
    ['not a URL', 'not a url', {}],
    ['bad timeout', server.url, { handshakeTimeout: 0 }],
    ['bad deflate option', server.url, { perMessageDeflate: { clientMaxWindowBits: 16 } }],
  ];
  for (const [name, url, options] of bad) {
    const err = await failure(connect(url, options));
    t.equal(err.code, 'ERR_WS_INVALID_ARGUMENT', name);
  }
  await new Promise((r) => setTimeout(r, 20));
  t.equal(server.connections, 0, 'nothing was dialed');
});

t.test('permessage-deflate: offer, accepted answer, refused answers', async (t) => {
  const answers = ['permessage-deflate', 'permessage-deflate; server_max_window_bits=7', 'permessage-deflate; x=', 'permessage-deflate, permessage-deflate'];
  const server = await scripted(t, (socket, _head, key) => {
    const answer = answers[server.requests.length - 1];
    socket.write(switching(key, `Sec-WebSocket-Extensions: ${answer}\r\n`));
  });
  const ws = await connect(server.url, { perMessageDeflate: true, keepAliveInterval: 0 });
  ws.terminate();
  t.match(server.requests[0], '\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n');
  t.equal(ws.extensions, 'permessage-deflate');
  for (const answer of answers.slice(1)) {
    const err = await failure(connect(server.url, { perMessageDeflate: true, keepAliveInterval: 0 }));
    t.equal(err.code, 'ERR_WS_EXTENSION_MISMATCH', answer);
    t.equal(err.status, 101);
  }
});

t.test('permessage-deflate round trip with our own server', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', perMessageDeflate: { threshold: 0 }, keepAliveInterval: 0 });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  wss.on('connection', (ws: WebSocket) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const ws = await connect(`ws://127.0.0.1:${port}/`, { perMessageDeflate: { threshold: 0 }, keepAliveInterval: 0 });
  t.equal(ws.extensions, 'permessage-deflate');
  const text = 'compress me '.repeat(1000);
  ws.send(text);
  t.equal(String((await once(ws, 'message'))[0]), text);
  ws.close(1000);
  await once(ws, 'close');
});

t.test('http: URL and user Host override, credentials in the URL', async (t) => {
  const server = await scripted(t, (socket, _head, key) => socket.write(switching(key)));
  const ws = await connect(`http://user:p%40ss@127.0.0.1:${server.port}`, { headers: { Host: 'example.com' }, keepAliveInterval: 0 });
  ws.terminate();
  t.match(server.requests[0], /^GET \/ HTTP\/1\.1\r\nHost: example\.com\r\n/);
  t.match(server.requests[0], `\r\nAuthorization: Basic ${Buffer.from('user:p@ss').toString('base64')}\r\n`);
});

t.test('against our own server: subprotocols, data, and a round trip', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', path: '/', protocols: ['v2', 'v1'], keepAliveInterval: 0 });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  wss.on('connection', (ws: WebSocket) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const ws = await connect(`ws://127.0.0.1:${port}/`, { protocols: ['v1', 'v2'], keepAliveInterval: 0 });
  t.equal(ws.protocol, 'v1', "client's first choice the server supports");
  ws.send('ping?');
  const [data] = await once(ws, 'message');
  t.equal(String(data), 'ping?');
  ws.close(1000);
  const [code] = await once(ws, 'close');
  t.equal(code, 1000);

  const refused = await failure(connect(`ws://127.0.0.1:${port}/nope`));
  t.equal(refused.code, 'ERR_WS_UPGRADE_STATUS');
  t.equal(refused.status, 404);
  t.equal(refused.body?.toString(), 'No WebSocket endpoint at /nope');
});

t.test('wss:// with a self-signed certificate: SNI, ca, rejectUnauthorized', async (t) => {
  const pair = selfSignedCert();
  if (pair === null) {
    t.comment('openssl not available: TLS test skipped');
    return;
  }
  const wss = new WebSocketServer({ host: '127.0.0.1', tls: pair, keepAliveInterval: 0 });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  wss.on('connection', (ws: WebSocket) => ws.on('message', (data) => ws.send(data)));

  const untrusted = await failure(connect(`wss://localhost:${port}/`));
  t.equal(untrusted.code, 'ERR_WS_CONNECT', 'self-signed certificate refused by default');
  t.type(untrusted.cause, Error);

  const ws = await connect(`wss://localhost:${port}/`, { tls: { ca: pair.cert }, keepAliveInterval: 0 });
  ws.send('secure');
  t.equal(String((await once(ws, 'message'))[0]), 'secure', 'trusted via ca, SNI localhost');
  ws.terminate();

  const byIp = await connect(`wss://127.0.0.1:${port}/`, { tls: { ca: pair.cert }, keepAliveInterval: 0 });
  byIp.terminate();
  t.pass('IP address host verified against the IP SAN without SNI');

  const insecure = await connect(`wss://127.0.0.1:${port}/`, { tls: { rejectUnauthorized: false }, keepAliveInterval: 0 });
  insecure.terminate();
  t.pass('rejectUnauthorized: false');
});
