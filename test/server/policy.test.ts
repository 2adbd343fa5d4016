// Issue 2, server handshake policy: allowedOrigins (list and function) admitting
// as well as refusing, in both server modes; what authorize and the subprotocol
// callback see; close() with several clients (1001 to all, wait, destroy the rest).
import { once } from 'node:events';
import * as http from 'node:http';
import type * as net from 'node:net';
import t from 'tap';
import { WebSocketServer, type ServerOptions, type UpgradeRequest } from '../../lib/server/server.js';
import { UpgradeRejection } from '../../lib/errors.js';
import type { WebSocket } from '../../lib/websocket.js';
import { cframe, closePayload, OP } from '../helpers/frames.js';
import { parseResponse, upgradeRequest } from '../helpers/http.js';
import { RawPeer, exchange } from '../helpers/raw-peer.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

/** A server in the given mode; `port` is where to send upgrade requests. */
async function serve(t: Test, mode: 'standalone' | 'attached', options: ServerOptions): Promise<{ wss: WebSocketServer; port: number }> {
  if (mode === 'standalone') {
    const wss = new WebSocketServer({ host: '127.0.0.1', keepAliveInterval: 0, ...options });
    const { port } = await wss.listen();
    t.teardown(() => wss.close(100));
    return { wss, port };
  }
  const server = http.createServer();
  const wss = new WebSocketServer({ keepAliveInterval: 0, ...options });
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    await wss.close(100);
    server.close();
  });
  return { wss, port: (server.address() as net.AddressInfo).port };
}

/** Status line of the answer to an upgrade with these extra headers (the connection, if any, is dropped). */
async function statusFor(port: number, headers: Record<string, string | null>): Promise<string> {
  const peer = await RawPeer.connect(port);
  await peer.write(upgradeRequest({ path: '/p?q=1', headers }));
  const head = await peer.readHead();
  peer.socket.destroy();
  return head.split('\r\n')[0]!;
}

for (const mode of ['standalone', 'attached'] as const) {
  t.test(`${mode}: an allowedOrigins list admits listed origins (case-insensitively) and refuses others`, async (t) => {
    const { port } = await serve(t, mode, { allowedOrigins: ['https://app.example', 'http://localhost:3000'] });
    t.equal(await statusFor(port, { Origin: 'https://app.example' }), 'HTTP/1.1 101 Switching Protocols');
    t.equal(await statusFor(port, { Origin: 'HTTPS://APP.EXAMPLE' }), 'HTTP/1.1 101 Switching Protocols');
    t.equal(await statusFor(port, { Origin: 'http://localhost:3000' }), 'HTTP/1.1 101 Switching Protocols');
    t.equal(await statusFor(port, { Origin: 'http://localhost:3001' }), 'HTTP/1.1 403 Forbidden');
    t.equal(await statusFor(port, { Origin: 'https://app.example.evil' }), 'HTTP/1.1 403 Forbidden');
    t.equal(await statusFor(port, { Origin: 'null' }), 'HTTP/1.1 403 Forbidden');
    t.equal(await statusFor(port, {}), 'HTTP/1.1 403 Forbidden', 'no Origin: refused by a list');
  });

  t.test(`${mode}: the function form sees the origin (or undefined) and the request`, async (t) => {
    const calls: Array<[string | undefined, string, string | undefined]> = [];
    const { port } = await serve(t, mode, {
      allowedOrigins: (origin, req) => {
        calls.push([origin, req.path, req.remoteAddress]);
        return origin === undefined || origin.endsWith('.trusted.example');
      },
    });
    t.equal(await statusFor(port, { Origin: 'https://a.trusted.example' }), 'HTTP/1.1 101 Switching Protocols');
    t.equal(await statusFor(port, { Origin: 'https://evil.example' }), 'HTTP/1.1 403 Forbidden');
    t.equal(await statusFor(port, {}), 'HTTP/1.1 101 Switching Protocols', 'a function may admit clients without Origin');
    t.same(calls, [
      ['https://a.trusted.example', '/p', '127.0.0.1'],
      ['https://evil.example', '/p', '127.0.0.1'],
      [undefined, '/p', '127.0.0.1'],
    ]);
  });

  t.test(`${mode}: authorize sees URL, headers, cookies and the remote address; its data reaches 'connection'`, async (t) => {
    const seen: UpgradeRequest[] = [];
    const { wss, port } = await serve(t, mode, {
      authorize: async (req) => {
        seen.push(req);
        await new Promise((r) => setTimeout(r, 5));
        return req.cookies.session === 'good' ? { accept: true, data: { user: req.headers['x-user'] } } : { accept: false, status: 401, body: 'login first' };
      },
    });
    const connection = once(wss, 'connection');
    const peer = await RawPeer.connect(port);
    await peer.write(upgradeRequest({ path: '/room/7?t=1', headers: { Cookie: 'theme=dark; session=good', 'X-User': 'ann' } }));
    t.match(await peer.readHead(), /^HTTP\/1\.1 101 /);
    const [, req, data] = (await connection) as [WebSocket, UpgradeRequest, unknown];
    t.same(data, { user: 'ann' });
    t.equal(req, seen[0], "'connection' gets the request authorize saw");
    t.equal(seen[0]!.url, '/room/7?t=1');
    t.equal(seen[0]!.path, '/room/7');
    t.equal(seen[0]!.headers['x-user'], 'ann');
    t.same({ ...seen[0]!.cookies }, { theme: 'dark', session: 'good' });
    t.equal(seen[0]!.remoteAddress, '127.0.0.1');
    t.equal(seen[0]!.remotePort, peer.socket.localPort);
    peer.socket.destroy();
    const refused = parseResponse(await exchange(port, upgradeRequest({ headers: { Cookie: 'session=bad' } })));
    t.equal(refused.statusLine, 'HTTP/1.1 401 Unauthorized');
    t.equal(refused.body, 'login first');
  });

  t.test(`${mode}: an UpgradeRejection thrown by authorize is answered with its own status and headers`, async (t) => {
    const { port } = await serve(t, mode, {
      authorize: async () => {
        throw new UpgradeRejection(401, 'log in first', { 'WWW-Authenticate': 'Bearer' });
      },
    });
    const peer = await RawPeer.connect(port);
    await peer.write(upgradeRequest({ path: '/p', headers: {} }));
    const head = await peer.readHead();
    peer.socket.destroy();
    t.equal(head.split('\r\n')[0], 'HTTP/1.1 401 Unauthorized');
    t.match(head, /\r\nWWW-Authenticate: Bearer\r\n/i);
  });

  t.test(`${mode}: frames sent while authorize is still pending are not lost`, async (t) => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const { wss, port } = await serve(t, mode, {
      authorize: async () => {
        await gate;
        return true;
      },
    });
    const messages: string[] = [];
    const got = new Promise<void>((resolve) =>
      wss.once('connection', (ws: WebSocket) =>
        ws.on('message', (d: Buffer) => {
          messages.push(String(d));
          if (messages.length === 2) resolve();
        }),
      ),
    );
    const peer = await RawPeer.connect(port);
    await peer.write(upgradeRequest());
    await new Promise((r) => setTimeout(r, 20));
    // The client does not wait for the 101 (it pipelines): these bytes arrive during authorize.
    await peer.write(cframe({ opcode: OP.TEXT, payload: 'early one' }));
    await peer.write(cframe({ opcode: OP.TEXT, payload: 'early two' }));
    await new Promise((r) => setTimeout(r, 20));
    release();
    t.match(await peer.readHead(), /^HTTP\/1\.1 101 /);
    await got;
    t.same(messages, ['early one', 'early two']);
    peer.socket.destroy();
  });
}

t.test('the subprotocol callback gets the offers in client order and the request; its choice is echoed', async (t) => {
  const calls: Array<[string[], string]> = [];
  const { wss, port } = await serve(t, 'standalone', {
    protocols: (offered, req) => {
      calls.push([offered, req.headers['x-app'] ?? '']);
      return offered.includes('v2.chat') ? 'v2.chat' : undefined;
    },
  });
  const connection = once(wss, 'connection');
  const peer = await RawPeer.connect(port);
  await peer.write(upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'v1.chat, v2.chat', 'X-App': 'demo' } }));
  const head = parseResponse(Buffer.from(await peer.readHead(), 'latin1'));
  t.equal(head.headers['sec-websocket-protocol'], 'v2.chat');
  t.equal(((await connection)[0] as WebSocket).protocol, 'v2.chat');
  t.same(calls, [[['v1.chat', 'v2.chat'], 'demo']]);
  peer.socket.destroy();
  const none = parseResponse(Buffer.from(await statusHead(port, 'v1.chat'), 'latin1'));
  t.equal(none.statusLine, 'HTTP/1.1 101 Switching Protocols');
  t.equal(none.headers['sec-websocket-protocol'], undefined, 'none chosen: no header');
});

async function statusHead(port: number, protocols: string): Promise<string> {
  const peer = await RawPeer.connect(port);
  await peer.write(upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': protocols } }));
  const head = await peer.readHead();
  peer.socket.destroy();
  return head;
}

t.test('close(): 1001 to every client, clean for those that answer, the silent one destroyed at the deadline', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', keepAliveInterval: 0, closeTimeout: 60_000 });
  const { port } = await wss.listen();
  const peers: RawPeer[] = [];
  const sockets: WebSocket[] = [];
  for (let i = 0; i < 3; i++) {
    const connection = once(wss, 'connection');
    const peer = await RawPeer.connect(port);
    await peer.write(upgradeRequest());
    await peer.readHead();
    peers.push(peer);
    sockets.push(((await connection) as [WebSocket])[0]);
  }
  t.equal(wss.clients.size, 3);
  const closes = sockets.map((ws) => once(ws, 'close'));
  const closing = wss.close(300);
  for (const [i, peer] of peers.entries()) {
    const got = await peer.until((b) => b.length >= 4);
    t.same([...got.subarray(0, 4)], [0x88, got[1], 0x03, 0xe9], `client ${i} got a close frame with 1001`);
  }
  // Two answer the close; the third stays silent.
  await peers[0]!.write(cframe({ opcode: OP.CLOSE, payload: closePayload(1001), mask: Buffer.from([1, 2, 3, 4]) }));
  await peers[1]!.write(cframe({ opcode: OP.CLOSE, payload: closePayload(1001), mask: Buffer.alloc(4) }));
  await closing;
  const results = await Promise.all(closes);
  t.same(results.map(([code, , wasClean]) => [code, wasClean]), [[1001, true], [1001, true], [1006, false]]);
  for (const peer of peers) await peer.whenClosed();
  t.ok(peers.every((p) => p.closed), 'every TCP connection is gone');
  t.equal(wss.clients.size, 0);
  await t.rejects(exchange(port, upgradeRequest()), 'no longer accepting');
});

t.test("handleUpgrade after close(): 503, and 'rejected' is emitted like for every refused upgrade", async (t) => {
  const server = http.createServer();
  const wss = new WebSocketServer({ keepAliveInterval: 0 });
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  await wss.close(100);
  const rejected: Array<[number, UpgradeRequest | undefined]> = [];
  wss.on('rejected', (status: number, req: UpgradeRequest | undefined) => rejected.push([status, req]));
  const answer = parseResponse(await exchange((server.address() as net.AddressInfo).port, upgradeRequest({ path: '/late' })));
  t.equal(answer.statusLine, 'HTTP/1.1 503 Service Unavailable');
  t.equal(rejected.length, 1);
  t.equal(rejected[0]?.[0], 503);
  t.equal(rejected[0]?.[1]?.url, '/late', 'with the request');
});
