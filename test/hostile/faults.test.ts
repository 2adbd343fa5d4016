// Network faults: a peer that resets or half-closes in the middle of a frame,
// a half-open path (the peer silently gone; only keepalive can tell), and a
// TLS connection cut without close_notify. On each side that sees the fault:
// exactly one 'close' event, 1006, wasClean false, and everything released.
import { once } from 'node:events';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import type { ServerOptions } from '../../lib/server/server.js';
import type { WebSocket, WebSocketOptions } from '../../lib/websocket.js';
import { frame, sframe } from '../helpers/frames.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { upgradeServer as rawServer } from '../helpers/raw-server.js';
import { selfSignedCert } from '../helpers/tls.js';
import { Middlebox, listen, resources, settle, sleep, track, waitFor } from './helpers.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

const KEY = Buffer.from([9, 8, 7, 6]);
/** A binary frame header announcing 100 bytes, followed by only 40 of them. */
const HALF_FRAME_MASKED = frame({ opcode: 2, payload: Buffer.alloc(100, 1), mask: KEY }).subarray(0, 6 + 40);
const HALF_FRAME = sframe({ opcode: 2, payload: Buffer.alloc(100, 1) }).subarray(0, 2 + 40);

for (const mode of ['rst', 'fin'] as const) {
  for (const withErrorListener of [true, false]) {
    t.test(`server side: peer ${mode === 'rst' ? 'resets' : 'sends FIN'} mid-frame (${withErrorListener ? 'with' : 'without'} an error listener)`, async (t) => {
      const { wss, port } = await listen(t);
      const before = resources();
      const connection = once(wss, 'connection') as Promise<[WebSocket]>;
      const peer = await RawPeer.upgrade(port);
      const [ws] = await connection;
      const { closes, closed } = track(ws);
      if (withErrorListener) ws.on('error', () => {});
      let messages = 0;
      ws.on('message', () => messages++);
      await peer.write(HALF_FRAME_MASKED);
      await sleep(20);
      if (mode === 'rst') peer.socket.resetAndDestroy();
      else peer.socket.end();
      t.same(await closed, { code: 1006, reason: '', wasClean: false });
      await sleep(30);
      t.equal(closes.length, 1, "exactly one 'close'");
      t.equal(messages, 0, 'the partial frame is not delivered');
      t.equal(wss.clients.size, 0, 'clients set empty');
      t.same(await settle(before), [], 'no socket or timer left behind');
    });
  }

  t.test(`client side: server ${mode === 'rst' ? 'resets' : 'sends FIN'} mid-frame`, async (t) => {
    const server = await rawServer(t, (socket) => {
      socket.write(HALF_FRAME, () => setTimeout(() => (mode === 'rst' ? socket.resetAndDestroy() : socket.end()), 20));
    });
    const before = resources();
    const ws = await connect(server.url, { keepAliveInterval: 0 });
    const { closes, closed } = track(ws);
    let messages = 0;
    ws.on('message', () => messages++);
    t.same(await closed, { code: 1006, reason: '', wasClean: false });
    await sleep(30);
    t.equal(closes.length, 1, "exactly one 'close'");
    t.equal(messages, 0);
    t.same(await settle(before), [], 'no socket or timer left behind');
  });
}

interface Scenario {
  tls: boolean;
  cut: 'rst' | 'fin' | 'silence';
  midFrame: boolean;
  server?: ServerOptions;
  client?: WebSocketOptions;
}

/**
 * Our client -> a TCP middlebox -> our server. The middlebox forwards until
 * told to cut (optionally after only part of a large client frame passed),
 * so neither end sends or receives a close frame or a TLS close_notify.
 */
async function throughMiddlebox(t: Test, s: Scenario) {
  const pair = s.tls ? selfSignedCert() : null;
  if (s.tls && pair === null) return null;
  const { wss, port } = await listen(t, { ...(pair ? { tls: pair } : {}), ...s.server });
  const box = new Middlebox(port);
  await box.start();
  t.teardown(() => box.close());
  const before = resources();
  const connection = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = await connect(`${s.tls ? 'wss' : 'ws'}://127.0.0.1:${box.port}/`, {
    keepAliveInterval: 0,
    ...(pair ? { tls: { ca: pair.cert } } : {}),
    ...s.client,
  });
  const [server] = await connection;
  const c = track(client);
  const sv = track(server);
  let messages = 0;
  server.on('message', () => messages++);
  if (s.midFrame) {
    box.limitToServer = box.forwardedToServer + 1000;
    client.send(Buffer.alloc(256 * 1024, 7));
    await waitFor(() => box.forwardedToServer >= box.limitToServer);
    await sleep(20);
  }
  box.cut(s.cut);
  const [cc, sc] = await Promise.all([c.closed, sv.closed]);
  await sleep(30);
  t.equal(c.closes.length, 1, "client: exactly one 'close'");
  t.equal(sv.closes.length, 1, "server: exactly one 'close'");
  t.equal(messages, 0, 'nothing partial delivered');
  t.equal(wss.clients.size, 0, 'clients set empty');
  // The middlebox's own sockets go when both of their ends are gone.
  box.close();
  t.same(await settle(before), [], 'no socket or timer left behind');
  return { client: cc, server: sc };
}

for (const tls of [false, true]) {
  for (const cut of ['rst', 'fin'] as const) {
    t.test(`${tls ? 'TLS' : 'TCP'} connection ${cut === 'rst' ? 'reset' : 'closed with a bare FIN'} mid-frame${tls ? ' (no close_notify)' : ''}: 1006 on both sides`, async (t) => {
      const r = await throughMiddlebox(t, { tls, cut, midFrame: true });
      if (r === null) return void t.comment('openssl not available: TLS case skipped');
      t.same(r.client, { code: 1006, reason: '', wasClean: false }, 'client');
      t.same(r.server, { code: 1006, reason: '', wasClean: false }, 'server');
    });
  }
}

t.test('TLS cut without close_notify while idle (no frame in flight): 1006 on both sides', async (t) => {
  const r = await throughMiddlebox(t, { tls: true, cut: 'fin', midFrame: false });
  if (r === null) return void t.comment('openssl not available: TLS case skipped');
  t.equal(r.client.code, 1006);
  t.equal(r.server.code, 1006);
  t.equal(r.client.wasClean || r.server.wasClean, false);
});

t.test('half-open path: the server detects the silent peer by keepAliveTimeout', async (t) => {
  const r = await throughMiddlebox(t, { tls: false, cut: 'silence', midFrame: false, server: { keepAliveInterval: 50, keepAliveTimeout: 100 } });
  t.equal(r!.server.code, 1006);
  t.match(r!.server.reason, /keepalive/);
  t.equal(r!.server.wasClean, false);
  t.equal(r!.client.code, 1006, 'the client learns when the path is torn down');
});

t.test('half-open path: the client detects the silent server by keepAliveTimeout', async (t) => {
  const r = await throughMiddlebox(t, { tls: false, cut: 'silence', midFrame: false, client: { keepAliveInterval: 50, keepAliveTimeout: 100 } });
  t.equal(r!.client.code, 1006);
  t.match(r!.client.reason, /keepalive/);
  t.equal(r!.client.wasClean, false);
  t.equal(r!.server.code, 1006);
});

t.test('half-open TLS path: both sides detect it by keepAliveTimeout', async (t) => {
  const ka = { keepAliveInterval: 50, keepAliveTimeout: 100 };
  const r = await throughMiddlebox(t, { tls: true, cut: 'silence', midFrame: false, server: ka, client: ka });
  if (r === null) return void t.comment('openssl not available: TLS case skipped');
  t.equal(r.client.code, 1006);
  t.equal(r.server.code, 1006);
  t.equal(r.client.wasClean || r.server.wasClean, false);
});
