import * as net from 'node:net';
import { once } from 'node:events';
import { WebSocket, type WebSocketOptions } from '../../lib/websocket.js';
import type { MessageTransform } from '../../lib/protocol/extension.js';
import { SocketTransport } from '../../lib/transport/socket.js';

/** Two connected sockets on 127.0.0.1: `accepted` (server side) and `dialed` (client side). */
export async function socketPair(): Promise<{ accepted: net.Socket; dialed: net.Socket; close(): void }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const dialed = net.connect(port, '127.0.0.1');
  const [accepted] = (await once(server, 'connection')) as [net.Socket];
  await once(dialed, 'connect');
  server.close();
  return { accepted, dialed, close: () => { accepted.destroy(); dialed.destroy(); } };
}

export interface PairOptions {
  server?: WebSocketOptions;
  client?: WebSocketOptions;
  serverTransform?: MessageTransform | null;
  clientTransform?: MessageTransform | null;
}

/** A server-role and a client-role WebSocket joined by a real TCP connection (no HTTP handshake). */
export async function wsPair(opts: PairOptions = {}): Promise<{ server: WebSocket; client: WebSocket }> {
  const { accepted, dialed } = await socketPair();
  const server = new WebSocket({
    role: 'server', transport: new SocketTransport(accepted), head: Buffer.alloc(0), protocol: '', extensions: '',
    transform: opts.serverTransform ?? null, options: { keepAliveInterval: 0, ...opts.server },
  });
  const client = new WebSocket({
    role: 'client', transport: new SocketTransport(dialed), head: Buffer.alloc(0), protocol: '', extensions: '',
    transform: opts.clientTransform ?? null, options: { keepAliveInterval: 0, ...opts.client },
  });
  return { server, client };
}

/** Resolves with the arguments of the next `close` event. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string; wasClean: boolean }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: string, wasClean: boolean) => resolve({ code, reason, wasClean })));
}
