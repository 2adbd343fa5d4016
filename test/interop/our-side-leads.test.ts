// Issue 2, interop beyond test/interop.test.ts: the directions where *our* side
// streams fragments, pings, and starts the close — against `ws` in both roles and
// Node's built-in WebSocket client.
import t from 'tap';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { WebSocketServer as WsServer, WebSocket as WsClient } from 'ws';
import { WebSocketServer, connect, type WebSocket } from '../../lib/index.js';

t.test('our server -> ws client: streamed fragments, ping/pong, server-initiated close', async (t) => {
  const server = new WebSocketServer({ host: '127.0.0.1', keepAliveInterval: 0 });
  const { port } = await server.listen();
  t.teardown(() => server.close(100));
  const ours = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const client = new WsClient(`ws://127.0.0.1:${port}/`);
  await once(client, 'open');
  const ws = await ours;
  const messages: Array<[string, boolean]> = [];
  client.on('message', (d: Buffer, isBinary: boolean) => messages.push([d.toString(), isBinary]));
  ws.send('one-', { fin: false });
  ws.ping('mid');
  ws.send('two-', { fin: false });
  ws.send('three', { fin: true });
  ws.send(Buffer.from('bin'), { fin: false });
  ws.send(Buffer.from('ary'));
  const [pong] = await once(ws, 'pong');
  t.equal(String(pong), 'mid', 'ws answered our ping inside a fragmented message');
  while (messages.length < 2) await new Promise((r) => setTimeout(r, 5));
  t.same(messages, [['one-two-three', false], ['binary', true]]);
  const clientClose = once(client, 'close');
  const serverClose = once(ws, 'close');
  ws.close(4005, 'server says bye');
  const [code, reason] = await clientClose;
  t.same([code, String(reason)], [4005, 'server says bye']);
  // ws echoes the reason as well as the code; we report what its close frame says.
  t.same(await serverClose, [4005, 'server says bye', true]);
});

t.test('ws server -> our client: ws pings, ws starts the close', async (t) => {
  const wss = new WsServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  t.teardown(() => new Promise<void>((r) => wss.close(() => r())));
  const theirs = new Promise<import('ws').WebSocket>((resolve) => wss.once('connection', resolve));
  const ws = await connect(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`, { keepAliveInterval: 0 });
  const peer = await theirs;
  peer.ping('are you there');
  const [pong] = await once(peer, 'pong');
  t.equal(String(pong), 'are you there');
  const closing = once(ws, 'close');
  const peerClosed = once(peer, 'close');
  peer.close(4006, 'ws says bye');
  t.same(await closing, [4006, 'ws says bye', true]);
  const [code] = await peerClosed;
  t.equal(code, 4006, 'ws saw our echo of its code');
});

t.test("our server -> Node's built-in client: server-initiated close with code and reason", async (t) => {
  const server = new WebSocketServer({ host: '127.0.0.1', keepAliveInterval: 0 });
  const { port } = await server.listen();
  t.teardown(() => server.close(100));
  server.on('connection', (ws: WebSocket) => {
    ws.send('x', { fin: false });
    ws.send('y');
    ws.once('message', () => ws.close(4007, 'node bye'));
  });
  const script = `
    const ws = new WebSocket('ws://127.0.0.1:${port}/');
    const got = [];
    ws.onmessage = (e) => { got.push(e.data); ws.send('ack'); };
    ws.onclose = (e) => console.log(JSON.stringify({ got, code: e.code, reason: e.reason, wasClean: e.wasClean }));
    ws.onerror = () => console.log(JSON.stringify({ error: true }));
  `;
  const flags = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : [];
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [...flags, '--no-warnings', '-e', script], { timeout: 15_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  t.same(JSON.parse(out.trim().split('\n').pop()!), { got: ['xy'], code: 4007, reason: 'node bye', wasClean: true });
});
