// Shared pieces of the lifecycle tests (expiry, accept-then-close, close codes, drain).
import { once } from 'node:events';
import { UpgradeRejection } from '../../lib/errors.js';
import { WebSocketServer, type ServerOptions, type UpgradeRequest } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { RawPeer } from '../helpers/raw-peer.js';

export type Test = Parameters<Parameters<typeof import('tap').test>[0]>[0];

export interface Served {
  wss: WebSocketServer;
  port: number;
  clock: ManualClock;
  rejected: Array<[number, UpgradeRequest | undefined, UpgradeRejection]>;
}

/** A standalone server on 127.0.0.1 with a manual clock and keepalive off; closed at teardown. */
export async function serve(t: Test, options: ServerOptions = {}): Promise<Served> {
  const clock = new ManualClock();
  const wss = new WebSocketServer({ host: '127.0.0.1', keepAliveInterval: 0, clock, ...options });
  const rejected: Served['rejected'] = [];
  wss.on('rejected', (status, req, reason) => rejected.push([status, req, reason]));
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  return { wss, port, clock, rejected };
}

/** Upgrade a raw peer and return it with the server side of its connection. */
export async function connectRaw(s: Served, path = '/'): Promise<{ peer: RawPeer; ws: WebSocket }> {
  const connection = once(s.wss, 'connection');
  const peer = await RawPeer.upgrade(s.port, { path });
  const [ws] = (await connection) as [WebSocket];
  return { peer, ws };
}

/** Wait for the server's close frame on `peer` and return its payload (undefined if TCP closed without one). */
export async function closeFrameOf(peer: RawPeer): Promise<Buffer | undefined> {
  await peer.untilClose();
  return peer.closeFrame?.payload;
}

/** Resolves with a WebSocket's close event arguments. */
export function closeOf(ws: WebSocket): Promise<{ code: number; reason: string; wasClean: boolean }> {
  return new Promise((resolve) => ws.once('close', (code, reason, wasClean) => resolve({ code, reason, wasClean })));
}
