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

/** Masked client frame bytes (fixed mask key, for exact-byte tests). */
export function clientFrame(opcode: number, payload: Buffer | string, fin = true, key = Buffer.from([1, 2, 3, 4])): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const len = data.length;
  const head = len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len])
    : len < 65536 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 255])
      : (() => { const b = Buffer.alloc(10); b[0] = (fin ? 0x80 : 0) | opcode; b[1] = 0x80 | 127; b.writeBigUInt64BE(BigInt(len), 2); return b; })();
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = data[i]! ^ key[i & 3]!;
  return Buffer.concat([head, key, masked]);
}

/** Reads from a raw socket until `predicate(all bytes so far)` holds or the socket closes. */
export function readUntil(socket: net.Socket, predicate: (all: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve) => {
    let all = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      all = Buffer.concat([all, chunk]);
      if (predicate(all)) { done(); }
    };
    const done = (): void => {
      socket.off('data', onData);
      socket.off('close', done);
      resolve(all);
    };
    socket.on('data', onData);
    socket.on('close', done);
  });
}
