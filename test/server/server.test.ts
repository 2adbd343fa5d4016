import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import t from 'tap';
import { UpgradeRejection } from '../../lib/errors.js';
import { WebSocketServer, type ServerOptions, type UpgradeRequest } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';
import { cframe, closePayload, OP } from '../helpers/frames.js';
import { SAMPLE_ACCEPT, parseResponse, upgradeRequest } from '../helpers/http.js';
import { RawPeer, exchange } from '../helpers/raw-peer.js';
import { selfSignedCert } from '../helpers/tls.js';

const ACCEPTED =
  'HTTP/1.1 101 Switching Protocols\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  `Sec-WebSocket-Accept: ${SAMPLE_ACCEPT}\r\n` +
  '\r\n';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

async function standalone(t: Test, options: ServerOptions = {}): Promise<{ wss: WebSocketServer; port: number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', keepAliveInterval: 0, ...options });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  return { wss, port };
}

/** Send `request` to a fresh server and return the parsed answer plus the 'rejected' event. */
async function refusal(t: Test, request: string | Buffer, options: ServerOptions = {}) {
  const { wss, port } = await standalone(t, options);
  const rejected: Array<[number, UpgradeRequest | undefined, UpgradeRejection]> = [];
  wss.on('rejected', (status, req, reason) => rejected.push([status, req, reason]));
  wss.on('connection', () => t.fail('must not connect'));
  const raw = await exchange(port, request);
  return { ...parseResponse(raw), raw: raw.toString('latin1'), rejected };
}

t.test('accepts the RFC 6455 example handshake and emits connection', async (t) => {
  const { wss, port } = await standalone(t, { path: '/chat' });
  const peer = await RawPeer.connect(port);
  const connection = once(wss, 'connection');
  await peer.write(
    upgradeRequest({ path: '/chat?room=1', headers: { Origin: 'http://example.com', Cookie: 'sid=abc; theme="dark"; x=%41' } }),
  );
  t.equal(await peer.readHead(), ACCEPTED, 'exact 101 response');
  const [ws, req, data] = (await connection) as [WebSocket, UpgradeRequest, unknown];
  t.equal(req.path, '/chat');
  t.equal(req.url, '/chat?room=1');
  t.equal(req.method, 'GET');
  t.equal(req.origin, 'http://example.com');
  t.equal(req.headers['sec-websocket-version'], '13');
  t.same({ ...req.cookies }, { sid: 'abc', theme: 'dark', x: 'A' });
  t.equal(req.remoteAddress, '127.0.0.1');
  t.equal(data, undefined);
  t.equal(ws.protocol, '');
  t.equal(wss.clients.size, 1);
  t.ok(wss.clients.has(ws));
  peer.socket.destroy();
  await once(ws, 'close');
  t.equal(wss.clients.size, 0, 'left the set on close');
});

t.test('request delivered one byte at a time', async (t) => {
  const { wss, port } = await standalone(t);
  const peer = await RawPeer.connect(port);
  const connection = once(wss, 'connection');
  await peer.writeBytewise(upgradeRequest());
  t.equal(await peer.readHead(), ACCEPTED);
  await connection;
  peer.socket.destroy();
});

t.test('a first frame pipelined with the request reaches the WebSocket', async (t) => {
  const { wss, port } = await standalone(t);
  const peer = await RawPeer.connect(port);
  wss.on('connection', (ws: WebSocket) => ws.on('message', (data, isBinary) => ws.send(`echo:${data}:${isBinary}`)));
  await peer.write(Buffer.concat([Buffer.from(upgradeRequest()), cframe({ opcode: OP.TEXT, payload: 'hello' })]));
  const expected = Buffer.concat([Buffer.from(ACCEPTED), Buffer.from([0x81, 16]), Buffer.from('echo:hello:false')]);
  await peer.until((b) => b.length >= expected.length - ACCEPTED.length);
  t.same(peer.all().subarray(0, expected.length), expected);
  peer.socket.destroy();
});

t.test('the same pipelined frame, also in one byte chunks', async (t) => {
  const { wss, port } = await standalone(t);
  const peer = await RawPeer.connect(port);
  const message = new Promise<string>((resolve) => wss.on('connection', (ws: WebSocket) => ws.on('message', (d) => resolve(String(d)))));
  await peer.writeBytewise(Buffer.concat([Buffer.from(upgradeRequest()), cframe({ opcode: OP.TEXT, payload: 'hi there' })]));
  t.equal(await message, 'hi there');
  peer.socket.destroy();
});

t.test('refusals: exact status lines and key headers', async (t) => {
  const cases: Array<{ name: string; request: string; status: string; headers?: Record<string, string>; options?: ServerOptions }> = [
    { name: 'POST', request: upgradeRequest({ method: 'POST' }), status: 'HTTP/1.1 405 Method Not Allowed', headers: { allow: 'GET' } },
    { name: 'HTTP/1.0', request: upgradeRequest({ version: '1.0' }), status: 'HTTP/1.1 505 HTTP Version Not Supported' },
    { name: 'no Host', request: upgradeRequest({ headers: { Host: null } }), status: 'HTTP/1.1 400 Bad Request' },
    { name: 'two Hosts', request: upgradeRequest({ headers: { 'X-A': 'b' } }).replace('X-A', 'Host'), status: 'HTTP/1.1 400 Bad Request' },
    { name: 'wrong path', request: upgradeRequest({ path: '/other' }), status: 'HTTP/1.1 404 Not Found', options: { path: ['/ws', '/chat'] } },
    {
      name: 'plain GET',
      request: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
      status: 'HTTP/1.1 426 Upgrade Required',
      headers: { upgrade: 'websocket', connection: 'Upgrade, close' },
    },
    { name: 'Connection without upgrade', request: upgradeRequest({ headers: { Connection: 'keep-alive' } }), status: 'HTTP/1.1 400 Bad Request' },
    {
      name: 'version 8',
      request: upgradeRequest({ headers: { 'Sec-WebSocket-Version': '8' } }),
      status: 'HTTP/1.1 426 Upgrade Required',
      headers: { 'sec-websocket-version': '13', upgrade: 'websocket' },
    },
    { name: 'key of 15 bytes', request: upgradeRequest({ headers: { 'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAAAAAA' } }), status: 'HTTP/1.1 400 Bad Request' },
    { name: 'no key', request: upgradeRequest({ headers: { 'Sec-WebSocket-Key': null } }), status: 'HTTP/1.1 400 Bad Request' },
    { name: 'malformed head', request: 'GET / HTTP/1.1\r\nBad Header: x\r\n\r\n', status: 'HTTP/1.1 400 Bad Request' },
    { name: 'garbage', request: '\x16\x03\x01\x02\x00\r\n\r\n', status: 'HTTP/1.1 400 Bad Request' },
    {
      name: 'too many headers',
      request: upgradeRequest({ headers: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`X-${i}`, 'v'])) }),
      status: 'HTTP/1.1 431 Request Header Fields Too Large',
    },
    {
      name: 'head too large',
      request: upgradeRequest({ headers: Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`X-${i}`, 'v'.repeat(3000)])) }),
      status: 'HTTP/1.1 431 Request Header Fields Too Large',
    },
    {
      name: 'header line too long',
      request: upgradeRequest({ headers: { 'X-Long': 'v'.repeat(5000) } }),
      status: 'HTTP/1.1 431 Request Header Fields Too Large',
    },
    { name: 'request line too long', request: upgradeRequest({ path: `/${'a'.repeat(5000)}` }), status: 'HTTP/1.1 414 URI Too Long' },
    {
      name: 'forbidden origin',
      request: upgradeRequest({ headers: { Origin: 'https://evil.example' } }),
      status: 'HTTP/1.1 403 Forbidden',
      options: { allowedOrigins: ['https://app.example'] },
    },
    {
      name: 'missing origin with a list',
      request: upgradeRequest(),
      status: 'HTTP/1.1 403 Forbidden',
      options: { allowedOrigins: ['https://app.example'] },
    },
    {
      name: 'origin function says no',
      request: upgradeRequest({ headers: { Origin: 'https://app.example' } }),
      status: 'HTTP/1.1 403 Forbidden',
      options: { allowedOrigins: (o) => o === 'https://other.example' },
    },
    { name: 'authorize false', request: upgradeRequest(), status: 'HTTP/1.1 403 Forbidden', options: { authorize: () => false } },
    {
      name: 'authorize throws',
      request: upgradeRequest(),
      status: 'HTTP/1.1 500 Internal Server Error',
      options: {
        authorize: async () => {
          throw new Error('db down');
        },
      },
    },
    {
      name: 'protocols() returns an unoffered protocol',
      request: upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'a' } }),
      status: 'HTTP/1.1 500 Internal Server Error',
      options: { protocols: () => 'b' },
    },
    {
      name: 'malformed subprotocol list',
      request: upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'a b' } }),
      status: 'HTTP/1.1 400 Bad Request',
    },
  ];
  for (const c of cases) {
    const r = await refusal(t, c.request, c.options);
    t.equal(r.statusLine, c.status, c.name);
    t.match(r.headers, { ...c.headers, 'content-type': 'text/plain; charset=utf-8' }, `${c.name}: headers`);
    t.match(r.headers.connection, /close/, `${c.name}: Connection: close`);
    t.equal(Number(r.headers['content-length']), Buffer.byteLength(r.body), `${c.name}: complete body`);
    t.equal(r.rejected.length, 1, `${c.name}: 'rejected' emitted`);
    t.equal(r.rejected[0]?.[0], Number(c.status.split(' ')[1]), `${c.name}: 'rejected' status`);
  }
});

t.test('a version refusal, byte for byte', async (t) => {
  const r = await refusal(t, upgradeRequest({ headers: { 'Sec-WebSocket-Version': '7' } }));
  const body = 'Unsupported Sec-WebSocket-Version: this server speaks version 13';
  t.equal(
    r.raw,
    'HTTP/1.1 426 Upgrade Required\r\n' +
      'Connection: Upgrade, close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${body.length}\r\n` +
      'Upgrade: websocket\r\n' +
      'Sec-WebSocket-Version: 13\r\n' +
      '\r\n' +
      body,
  );
});

t.test('authorize: custom refusal with status, headers and body', async (t) => {
  const seen: UpgradeRequest[] = [];
  const r = await refusal(t, upgradeRequest({ path: '/x?token=bad', headers: { Cookie: 'a=1' } }), {
    authorize: async (req) => {
      seen.push(req);
      return { accept: false, status: 401, headers: { 'WWW-Authenticate': 'Bearer' }, body: 'token expired' };
    },
  });
  t.equal(r.statusLine, 'HTTP/1.1 401 Unauthorized');
  t.equal(r.headers['www-authenticate'], 'Bearer');
  t.equal(r.body, 'token expired');
  t.equal(seen[0].url, '/x?token=bad');
  t.equal(seen[0].cookies.a, '1');
  t.equal(seen[0].remoteAddress, '127.0.0.1');
  t.equal(r.rejected[0][1]?.url, '/x?token=bad', "'rejected' carries the request");
});

t.test('authorize: header injection in a refusal becomes a plain 500', async (t) => {
  const r = await refusal(t, upgradeRequest(), {
    authorize: () => ({ accept: false, status: 401, headers: { 'X-Evil': 'a\r\nSet-Cookie: pwned=1' } }),
  });
  t.equal(r.statusLine, 'HTTP/1.1 500 Internal Server Error');
  t.notOk(r.raw.includes('pwned'));
});

t.test('authorize: a thrown error is the cause of the 500 rejection', async (t) => {
  const boom = new Error('boom');
  const r = await refusal(t, upgradeRequest(), {
    authorize: () => {
      throw boom;
    },
  });
  t.equal(r.rejected[0][2].cause, boom);
});

t.test('authorize: accept with data and extra 101 headers', async (t) => {
  const { wss, port } = await standalone(t, {
    authorize: async (req) => ({ accept: true, data: { user: req.cookies.sid }, headers: { 'Set-Cookie': 'seen=1' } }),
  });
  const peer = await RawPeer.connect(port);
  const connection = once(wss, 'connection');
  await peer.write(upgradeRequest({ headers: { Cookie: 'sid=42' } }));
  const head = await peer.readHead();
  t.equal(head, ACCEPTED.replace('\r\n\r\n', '\r\nSet-Cookie: seen=1\r\n\r\n'));
  const [, , data] = await connection;
  t.same(data, { user: '42' });
  peer.socket.destroy();
});

t.test('subprotocol selection', async (t) => {
  const offer = (value: string) => upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': value } });
  const chosen = async (options: ServerOptions, request: string): Promise<string | undefined> => {
    const { wss, port } = await standalone(t, options);
    const peer = await RawPeer.connect(port);
    const connection = once(wss, 'connection');
    await peer.write(request);
    const head = parseResponse(Buffer.from(await peer.readHead(), 'latin1'));
    const [ws] = (await connection) as [WebSocket];
    t.equal(ws.protocol, head.headers['sec-websocket-protocol'] ?? '', 'ws.protocol matches the echoed header');
    peer.socket.destroy();
    return head.headers['sec-websocket-protocol'];
  };
  t.equal(await chosen({ protocols: ['b', 'c'] }, offer('a, c, b')), 'c', "client's preference order wins");
  t.equal(await chosen({ protocols: ['x'] }, offer('a, b')), undefined, 'no overlap: no header');
  t.equal(await chosen({ protocols: ['x'] }, upgradeRequest()), undefined, 'nothing offered: no header');
  t.equal(await chosen({}, offer('a')), undefined, 'server has none: no header');
  t.equal(await chosen({ protocols: (offered) => offered[offered.length - 1] }, offer('a, b,  c')), 'c', 'callback');
  t.equal(await chosen({ protocols: () => undefined }, offer('a')), undefined, 'callback declines');
  const spaces = ' '.repeat(100_000);
  t.equal(
    await chosen({ protocols: ['chat'], maxHeadSize: 1 << 20, maxHeaderLineLength: 1 << 20 }, offer(`${spaces}x${spaces},${spaces}chat${spaces}`)),
    'chat',
    '100k-space runs in the header (linear-time parsing)',
  );
});

t.test('slowloris: an incomplete head gets 408 after handshakeTimeout, then the socket closes', async (t) => {
  const { wss, port } = await standalone(t, { handshakeTimeout: 150 });
  const rejected = once(wss, 'rejected');
  const peer = await RawPeer.connect(port);
  await peer.write('GET / HTTP/1.1\r\nHost: x\r\n');
  const raw = await peer.whenClosed();
  t.equal(parseResponse(raw).statusLine, 'HTTP/1.1 408 Request Timeout');
  t.equal((await rejected)[0], 408);
});

t.test('many slowloris peers at once: each gets 408, all sockets are released', async (t) => {
  const { wss, port } = await standalone(t, { handshakeTimeout: 300 });
  const peers = await Promise.all(Array.from({ length: 300 }, () => RawPeer.connect(port)));
  await Promise.all(peers.map((p) => p.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ')));
  const answers = await Promise.all(peers.map((p) => p.whenClosed()));
  t.equal(answers.filter((raw) => parseResponse(raw).statusLine === 'HTTP/1.1 408 Request Timeout').length, 300);
  // The server side closes once the peer has read the answer and hung up (or the linger expires).
  while (wss.pendingHandshakes > 0) await new Promise((r) => setTimeout(r, 10));
  t.equal(wss.pendingHandshakes, 0);
});

t.test('a silent connection is closed after handshakeTimeout', async (t) => {
  const { port } = await standalone(t, { handshakeTimeout: 100 });
  const peer = await RawPeer.connect(port);
  const raw = await peer.whenClosed();
  t.equal(parseResponse(raw).statusLine, 'HTTP/1.1 408 Request Timeout');
});

t.test('authorize still pending at the deadline: 503', async (t) => {
  const { port } = await standalone(t, { handshakeTimeout: 150, authorize: () => new Promise(() => {}) });
  const raw = await exchange(port, upgradeRequest());
  t.equal(parseResponse(raw).statusLine, 'HTTP/1.1 503 Service Unavailable');
});

t.test('a peer that disconnects during authorize is dropped quietly', async (t) => {
  let release: (v: boolean) => void = () => {};
  const { wss, port } = await standalone(t, { authorize: () => new Promise<boolean>((r) => (release = r)) });
  wss.on('connection', () => t.fail('no connection for a departed peer'));
  const peer = await RawPeer.connect(port);
  await peer.write(upgradeRequest());
  while (wss.pendingHandshakes === 0) await new Promise((r) => setTimeout(r, 5));
  peer.socket.destroy();
  while (wss.pendingHandshakes > 0) await new Promise((r) => setTimeout(r, 5));
  release(true);
  await new Promise((r) => setImmediate(r));
  t.equal(wss.clients.size, 0);
});

t.test('path option accepts each listed path', async (t) => {
  const { wss, port } = await standalone(t, { path: ['/a', '/b'] });
  for (const path of ['/a', '/b?x']) {
    const peer = await RawPeer.connect(port);
    const connection = once(wss, 'connection');
    await peer.write(upgradeRequest({ path }));
    t.equal(await peer.readHead(), ACCEPTED, path);
    await connection;
    peer.socket.destroy();
  }
});

t.test('close(): 1001 to every client, waits for them, then resolves', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', keepAliveInterval: 0 });
  const { port } = await wss.listen();
  const peer = await RawPeer.connect(port);
  const connection = once(wss, 'connection');
  await peer.write(upgradeRequest());
  await peer.readHead();
  const [ws] = (await connection) as [WebSocket];
  const closeEvent = once(ws, 'close');
  // A second peer stuck mid-handshake must not hold close() up.
  const stuck = await RawPeer.connect(port);
  await stuck.write('GET / HTTP/1.1\r\n');
  await new Promise((r) => setTimeout(r, 20));
  const closing = wss.close(2000);
  // The server's close frame: 1001.
  const frame = await peer.until((b) => b.length >= 4);
  t.same([...frame.subarray(0, 4)], [0x88, frame[1], 0x03, 0xe9]);
  // Answer with a masked close 1001 so the handshake completes cleanly.
  await peer.write(cframe({ opcode: OP.CLOSE, payload: closePayload(1001), mask: Buffer.alloc(4) }));
  await closing;
  const [code, , wasClean] = await closeEvent;
  t.equal(code, 1001);
  t.equal(wasClean, true);
  t.equal(wss.clients.size, 0);
  await stuck.whenClosed();
  t.ok(stuck.closed, 'handshaking socket dropped');
  await t.rejects(exchange(port, upgradeRequest()), 'no longer listening');
});

t.test('close(): clients that do not answer are terminated at the deadline', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', keepAliveInterval: 0, closeTimeout: 60_000 });
  const { port } = await wss.listen();
  const peer = await RawPeer.connect(port);
  const connection = once(wss, 'connection');
  await peer.write(upgradeRequest());
  const [ws] = (await connection) as [WebSocket];
  const closeEvent = once(ws, 'close');
  await wss.close(100);
  await peer.whenClosed();
  const [code] = await closeEvent;
  t.equal(code, 1006, 'no closing handshake: 1006');
  t.equal(wss.clients.size, 0);
});

t.test('attached to node:http with the server option', async (t) => {
  const server = http.createServer((req, res) => res.end('plain http'));
  const wss = new WebSocketServer({ server, path: '/ws', keepAliveInterval: 0 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    await wss.close(100);
    server.close();
  });
  const port = (server.address() as net.AddressInfo).port;
  t.equal(wss.address()?.port, port);

  const peer = await RawPeer.connect(port);
  const connection = new Promise<[UpgradeRequest, string]>((resolve) =>
    wss.once('connection', (ws: WebSocket, req: UpgradeRequest) => ws.once('message', (data) => resolve([req, String(data)]))),
  );
  await peer.write(Buffer.concat([Buffer.from(upgradeRequest({ path: '/ws' })), cframe({ opcode: OP.TEXT, payload: 'early' })]));
  t.equal(await peer.readHead(), ACCEPTED);
  const [req, message] = await connection;
  t.equal(req.path, '/ws');
  t.equal(message, 'early', 'head bytes reach the WebSocket');
  peer.socket.destroy();

  const notFound = parseResponse(await exchange(port, upgradeRequest({ path: '/nope' })));
  t.equal(notFound.statusLine, 'HTTP/1.1 404 Not Found');
  const badVersion = parseResponse(await exchange(port, upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Version': '12' } })));
  t.equal(badVersion.statusLine, 'HTTP/1.1 426 Upgrade Required');
  t.equal(badVersion.headers['sec-websocket-version'], '13');
  const twoHosts = parseResponse(await exchange(port, upgradeRequest({ path: '/ws', headers: { 'X-A': 'b' } }).replace('X-A', 'Host')));
  t.equal(twoHosts.statusLine, 'HTTP/1.1 400 Bad Request', 'duplicate Host seen through rawHeaders');
  const plain = parseResponse(await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  t.equal(plain.body, 'plain http', 'ordinary requests stay with the http server');
});

t.test('handleUpgrade from a user upgrade listener', async (t) => {
  const server = http.createServer();
  const wss = new WebSocketServer({ keepAliveInterval: 0, authorize: () => ({ accept: true, data: 'd' }) });
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    await wss.close(100);
    server.close();
  });
  const port = (server.address() as net.AddressInfo).port;
  const peer = await RawPeer.connect(port);
  const connection = once(wss, 'connection');
  await peer.write(upgradeRequest());
  t.equal(await peer.readHead(), ACCEPTED);
  t.equal((await connection)[2], 'd');
  peer.socket.destroy();
});

t.test('standalone wss:// with a self-signed certificate', async (t) => {
  const pair = selfSignedCert();
  if (pair === null) {
    t.comment('openssl not available: TLS test skipped');
    return;
  }
  const { wss, port } = await standalone(t, { tls: pair });
  const connection = once(wss, 'connection');
  const socket = tls.connect({ host: '127.0.0.1', port, ca: pair.cert, servername: 'localhost' });
  t.teardown(() => socket.destroy());
  await once(socket, 'secureConnect');
  socket.write(upgradeRequest());
  let received = '';
  socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
  await connection;
  while (!received.includes('\r\n\r\n')) await once(socket, 'data');
  t.equal(received.slice(0, ACCEPTED.length), ACCEPTED);
  const refused = new Promise<string>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: pair.cert, servername: 'localhost' }, () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    let data = '';
    s.on('data', (c: Buffer) => (data += c.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => resolve(data));
  });
  t.equal(parseResponse(Buffer.from(await refused, 'latin1')).statusLine, 'HTTP/1.1 426 Upgrade Required');
});

t.test('wss://: a peer that never starts TLS is dropped after handshakeTimeout', async (t) => {
  const pair = selfSignedCert();
  if (pair === null) {
    t.comment('openssl not available: TLS test skipped');
    return;
  }
  const { port } = await standalone(t, { tls: pair, handshakeTimeout: 150 });
  const peer = await RawPeer.connect(port);
  const received = await peer.whenClosed();
  t.ok(peer.closed, 'closed by the server');
  t.equal(received.length, 0, 'no HTTP answer on a TLS port');
});

t.test('option validation', async (t) => {
  t.throws(() => new WebSocketServer({ path: 'ws' }), { code: 'ERR_WS_INVALID_ARGUMENT' });
  t.throws(() => new WebSocketServer({ handshakeTimeout: -1 }), { code: 'ERR_WS_INVALID_ARGUMENT' });
  t.throws(() => new WebSocketServer({ maxHeadSize: 0 }), { code: 'ERR_WS_INVALID_ARGUMENT' });
  const server = http.createServer();
  t.throws(() => new WebSocketServer({ server, port: 1 }), { code: 'ERR_WS_INVALID_ARGUMENT' });
  const attached = new WebSocketServer({ server });
  await t.rejects(attached.listen(), { code: 'ERR_WS_INVALID_STATE' });
  await attached.close();
  t.equal(server.listenerCount('upgrade'), 0, 'close() detaches the upgrade listener');
});

t.test('Sec-WebSocket-Extensions: parsed only when deflate is enabled, malformed -> 400', async (t) => {
  const bad = upgradeRequest({ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; =x,,;' } });
  t.equal((await refusal(t, bad, { perMessageDeflate: true })).statusLine, 'HTTP/1.1 400 Bad Request');
  const { wss, port } = await standalone(t);
  const connection = once(wss, 'connection');
  const raw = await RawPeer.connect(port);
  await raw.write(bad);
  t.equal(await raw.readHead(), ACCEPTED, 'ignored (not even parsed) when no extension is enabled');
  await connection;
  raw.socket.destroy();
});

t.test('10,000 extension offers and 100k-space runs complete (linear-time parsing)', async (t) => {
  const offers = (n: number) => Array.from({ length: n }, () => 'permessage-deflate; client_max_window_bits').join(', ');
  const spaces = ' '.repeat(100_000);
  const big = { maxHeadSize: 1 << 21, maxHeaderLineLength: 1 << 21 };
  const cases: Array<[string, string, string]> = [
    ['10,000 offers: past the offer limit', offers(10_000), 'HTTP/1.1 400 Bad Request'],
    ['64 offers', offers(64), 'HTTP/1.1 101 Switching Protocols'],
    ['100k-space runs', `x-unknown${spaces},${spaces}permessage-deflate${spaces}`, 'HTTP/1.1 101 Switching Protocols'],
  ];
  for (const [name, value, status] of cases) {
    const { wss, port } = await standalone(t, { perMessageDeflate: true, ...big });
    const connection = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const peer = await RawPeer.connect(port);
    await peer.write(upgradeRequest({ headers: { 'Sec-WebSocket-Extensions': value } }));
    const head = parseResponse(Buffer.from(await peer.readHead(), 'latin1'));
    t.equal(head.statusLine, status, name);
    if (head.statusLine.includes('101')) {
      t.equal(head.headers['sec-websocket-extensions'], 'permessage-deflate', `${name}: negotiated`);
      t.equal((await connection).extensions, 'permessage-deflate', `${name}: ws.extensions`);
    }
    peer.socket.destroy();
  }
});
