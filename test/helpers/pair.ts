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

/** A WebSocket over an already connected socket, as if its upgrade had just completed (keepalive off unless `options` says). */
export function wsOver(
  role: 'server' | 'client',
  socket: net.Socket,
  options: WebSocketOptions = {},
  head: Buffer = Buffer.alloc(0),
  transform: MessageTransform | null = null,
): WebSocket {
  return new WebSocket({
    role, transport: new SocketTransport(socket), head, protocol: '', extensions: '', transform, options: { keepAliveInterval: 0, ...options },
  });
}

/** A server-role and a client-role WebSocket joined by a real TCP connection (no HTTP handshake). */
export async function wsPair(opts: PairOptions = {}): Promise<{ server: WebSocket; client: WebSocket }> {
  const { accepted, dialed } = await socketPair();
  const server = wsOver('server', accepted, opts.server, undefined, opts.serverTransform ?? null);
  const client = wsOver('client', dialed, opts.client, undefined, opts.clientTransform ?? null);
  return { server, client };
}

/** Resolves with the arguments of the next `close` event. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string; wasClean: boolean }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: string, wasClean: boolean) => resolve({ code, reason, wasClean })));
}
