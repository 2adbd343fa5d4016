// Handshake interop with the `ws` package (dev dependency), both directions.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { WebSocket as WsClient, WebSocketServer as WsServer } from 'ws';
import { connect } from '../../lib/client/client.js';
import type { HandshakeError } from '../../lib/errors.js';
import { WebSocketServer, type UpgradeRequest } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';

t.test('ws client -> our server', async (t) => {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    path: '/chat',
    protocols: ['b', 'a'],
    allowedOrigins: ['http://good.example'],
    keepAliveInterval: 0,
    authorize: (req) => (req.headers['x-token'] === 'secret' ? { accept: true, data: 'user-1' } : { accept: false, status: 401, body: 'bad token' }),
  });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  const seen: Array<[UpgradeRequest, unknown]> = [];
  wss.on('connection', (ws: WebSocket, req: UpgradeRequest, data: unknown) => {
    seen.push([req, data]);
    ws.on('message', (msg, isBinary) => ws.send(msg, { binary: isBinary }));
  });

  const client = new WsClient(`ws://127.0.0.1:${port}/chat?x=1`, ['a', 'b'], {
    origin: 'http://good.example',
    headers: { 'X-Token': 'secret' },
  });
  await once(client, 'open');
  t.equal(client.protocol, 'a', "first of the client's offers the server supports");
  client.send('hi');
  const [reply, isBinary] = await once(client, 'message');
  t.equal(String(reply), 'hi');
  t.equal(isBinary, false);
  t.equal(seen[0][0].url, '/chat?x=1');
  t.equal(seen[0][1], 'user-1');
  client.close(1000, 'bye');
  const [code] = await once(client, 'close');
  t.equal(code, 1000);

  const statusOf = async (url: string, options: object): Promise<[number, string]> => {
    const c = new WsClient(url, options);
    c.on('error', () => {});
    const [, res] = (await once(c, 'unexpected-response')) as [unknown, http.IncomingMessage];
    let body = '';
    for await (const chunk of res) body += chunk;
    return [res.statusCode ?? 0, body];
  };
  t.same(await statusOf(`ws://127.0.0.1:${port}/chat`, { origin: 'http://evil.example', headers: { 'X-Token': 'secret' } }), [403, 'Origin not allowed']);
  t.same(await statusOf(`ws://127.0.0.1:${port}/chat`, { origin: 'http://good.example' }), [401, 'bad token']);
  t.same((await statusOf(`ws://127.0.0.1:${port}/other`, { origin: 'http://good.example' }))[0], 404);
});

t.test('our client -> ws server', async (t) => {
  const server = new WsServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protocols: Set<string>) => (protocols.has('v2') ? 'v2' : false),
    verifyClient: (info: { req: http.IncomingMessage }) => info.req.headers['x-token'] === 'secret',
  });
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const upgradeHeaders: http.IncomingHttpHeaders[] = [];
  server.on('connection', (ws, req) => {
    upgradeHeaders.push(req.headers);
    ws.on('message', (msg, isBinary) => ws.send(msg, { binary: isBinary }));
  });

  const ws = await connect(`ws://127.0.0.1:${port}/x`, {
    protocols: ['v1', 'v2'],
    headers: { 'X-Token': 'secret' },
    origin: 'http://me.example',
    keepAliveInterval: 0,
  });
  t.equal(ws.protocol, 'v2');
  ws.send(Buffer.from([1, 2, 3]));
  const [data, isBinary] = await once(ws, 'message');
  t.same([...(data as Buffer)], [1, 2, 3]);
  t.equal(isBinary, true);
  t.equal(upgradeHeaders[0].origin, 'http://me.example');
  ws.close(1000);
  t.equal((await once(ws, 'close'))[0], 1000);

  let err: HandshakeError | undefined;
  try {
    await connect(`ws://127.0.0.1:${port}/x`, { keepAliveInterval: 0 });
  } catch (e) {
    err = e as HandshakeError;
  }
  t.equal(err?.code, 'ERR_WS_UPGRADE_STATUS');
  t.equal(err?.status, 401);
  t.equal(err?.body?.toString(), 'Unauthorized');
});

t.test("Node's own WebSocket client (undici) -> our server", async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', protocols: ['p2'], keepAliveInterval: 0 });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  wss.on('connection', (ws: WebSocket) => ws.on('message', (msg) => ws.send(`echo ${msg}`)));
  // Global on Node 22+, behind a flag on Node 20: run it in a child process either way.
  const script = `
    const ws = new WebSocket('ws://127.0.0.1:${port}/', ['p1', 'p2']);
    ws.onopen = () => ws.send('hello');
    ws.onmessage = (e) => { console.log(ws.protocol + '|' + e.data); ws.close(1000); };
    ws.onerror = () => { console.log('error'); process.exitCode = 1; };
  `;
  const flags = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : [];
  const child = spawn(process.execPath, [...flags, '--no-warnings', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  const [exitCode] = await once(child, 'exit');
  t.equal(out.trim(), 'p2|echo hello');
  t.equal(exitCode, 0);
});

t.test('permessage-deflate negotiation with ws, both directions', async (t) => {
  const text = 'deflate me please '.repeat(500);

  const ours = new WebSocketServer({ host: '127.0.0.1', perMessageDeflate: { threshold: 0 }, keepAliveInterval: 0 });
  const { port } = await ours.listen();
  t.teardown(() => ours.close(100));
  ours.on('connection', (ws: WebSocket) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const client = new WsClient(`ws://127.0.0.1:${port}/`, { perMessageDeflate: { threshold: 0 } });
  await once(client, 'open');
  t.match(client.extensions, /^permessage-deflate/, 'ws client accepted our answer');
  client.send(text);
  t.equal(String((await once(client, 'message'))[0]), text);
  client.close();
  await once(client, 'close');

  const theirs = new WsServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0 } });
  await once(theirs, 'listening');
  t.teardown(() => new Promise<void>((r) => theirs.close(() => r())));
  theirs.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const ws = await connect(`ws://127.0.0.1:${(theirs.address() as AddressInfo).port}/`, { perMessageDeflate: { threshold: 0 }, keepAliveInterval: 0 });
  t.match(ws.extensions, /^permessage-deflate/, 'we accepted the ws server answer');
  ws.send(text);
  t.equal(String((await once(ws, 'message'))[0]), text);
  ws.close(1000);
  await once(ws, 'close');
});
