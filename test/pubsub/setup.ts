// Shared set-up of the topic tests: a server on 127.0.0.1, raw subscribers (test/helpers/raw-peer.ts)
// with their server-side connections, and waiting for connections.
import { once } from 'node:events';
import { WebSocketServer, type ServerOptions } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';
import { RawPeer, type UpgradeOptions } from '../helpers/raw-peer.js';

type Tap = { teardown(fn: () => unknown): void };

export async function startServer(t: Tap, options: ServerOptions = {}): Promise<{ server: WebSocketServer; port: number }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, keepAliveInterval: 0, ...options });
  const { port } = await server.listen();
  t.teardown(() => server.close(200));
  return { server, port };
}

/** The server side of the next upgrade. */
export async function nextConnection(server: WebSocketServer): Promise<WebSocket> {
  const [ws] = (await once(server, 'connection')) as [WebSocket];
  return ws;
}

/** A raw client, its server-side connection, subscribed to `topics`. */
export async function rawSubscriber(
  t: Tap, server: WebSocketServer, port: number, topics: string[], opts: UpgradeOptions = {},
): Promise<{ peer: RawPeer; ws: WebSocket }> {
  const conn = nextConnection(server);
  const peer = await RawPeer.upgrade(port, opts);
  const ws = await conn;
  for (const topic of topics) ws.subscribe(topic);
  t.teardown(() => peer.destroy());
  return { peer, ws };
}

/** The bytes of an unmasked server frame with FIN (first byte `b0`), computed here, not with lib/. */
export function serverFrame(b0: number, payload: Buffer | string): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const len = p.length;
  const head = len < 126 ? [b0, len] : len < 65536 ? [b0, 126, len >> 8, len & 0xff] : [b0, 127, 0, 0, 0, 0, (len >>> 24) & 0xff, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff];
  return Buffer.concat([Buffer.from(head), p]);
}
