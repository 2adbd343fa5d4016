import { createPipe } from '../../lib/transport/pipe.js';
import { WebSocket, type WebSocketOptions } from '../../lib/websocket.js';
import type { Clock } from '../../lib/timers.js';
import type { MessageTransform } from '../../lib/protocol/extension.js';

export interface PipePairOptions {
  server?: WebSocketOptions;
  client?: WebSocketOptions;
  serverTransform?: MessageTransform | null;
  clientTransform?: MessageTransform | null;
  clock?: Clock;
  highWaterMark?: number;
}

/** A server-role and a client-role WebSocket joined by an in-memory pipe: no TCP, no handshake. */
export function pipePair(opts: PipePairOptions = {}): { server: WebSocket; client: WebSocket } {
  const [a, b] = createPipe({ highWaterMark: opts.highWaterMark });
  const base = { head: Buffer.alloc(0), protocol: '', extensions: '', clock: opts.clock };
  const server = new WebSocket({
    ...base, role: 'server', transport: a, transform: opts.serverTransform ?? null, options: { keepAliveInterval: 0, ...opts.server },
  });
  const client = new WebSocket({
    ...base, role: 'client', transport: b, transform: opts.clientTransform ?? null, options: { keepAliveInterval: 0, ...opts.client },
  });
  return { server, client };
}
