// Issue 11: WebSocket.close() while CONNECTING, and WebSocketStream's `signal` and close()
// while connecting, stop the dial at once: the server sees the socket closed right away (no
// 101 is ever sent), and the events stay the standard's.
import { once } from 'node:events';
import * as net from 'node:net';
import t from 'tap';
import { WebSocket, WebSocketStream } from '../../lib/web/index.js';

type Test = Parameters<Parameters<typeof import('tap').test>[0]>[0];

/** A TCP server that reads the request and never answers. */
async function silentServer(t: Test): Promise<{ url: string; server: net.Server; next(): Promise<net.Socket> }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const url = `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
  const next = () => new Promise<net.Socket>((resolve) => {
    server.once('connection', (socket) => {
      socket.on('error', () => {});
      socket.once('data', () => resolve(socket));
    });
  });
  return { url, server, next };
}

function connections(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
}

t.test('WebSocket: close() while CONNECTING closes the dialled socket now; error then close 1006', async (t) => {
  const s = await silentServer(t);
  const accepted = s.next();
  const ws = new WebSocket(s.url);
  const events: string[] = [];
  ws.onerror = () => events.push('error');
  const closeP = new Promise<{ code: number; wasClean: boolean }>((resolve) => { ws.onclose = (e) => resolve(e); });
  const socket = await accepted;
  const gone = once(socket, 'close');
  ws.close();
  t.equal(ws.readyState, WebSocket.CLOSING);
  await gone;
  t.equal(await connections(s.server), 0, 'the server holds no socket');
  const ev = await closeP;
  t.same(events, ['error']);
  t.equal(ev.code, 1006);
  t.equal(ev.wasClean, false);
});

t.test('WebSocketStream: aborting the signal while connecting closes the socket; opened/closed reject with the reason', async (t) => {
  const s = await silentServer(t);
  const accepted = s.next();
  const ac = new AbortController();
  const wss = new WebSocketStream(s.url, { signal: ac.signal });
  const socket = await accepted;
  const gone = once(socket, 'close');
  const reason = new Error('stop');
  ac.abort(reason);
  await gone;
  t.equal(await connections(s.server), 0);
  t.equal(await wss.opened.then(() => null, (e: unknown) => e), reason);
  t.equal(await wss.closed.then(() => null, (e: unknown) => e), reason);
});

t.test('WebSocketStream: close() while connecting closes the socket too', async (t) => {
  const s = await silentServer(t);
  const accepted = s.next();
  const wss = new WebSocketStream(s.url);
  const socket = await accepted;
  const gone = once(socket, 'close');
  wss.close();
  await gone;
  t.equal(await connections(s.server), 0);
  await t.rejects(wss.opened);
});
