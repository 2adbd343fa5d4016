/** Shared setup of the stream tests: a server on 127.0.0.1 and its next connection. */
export type Test = Parameters<Parameters<typeof import('tap').test>[0]>[0];
import { WebSocketServer, type ServerOptions } from '../../lib/server.js';
import type { WebSocket } from '../../lib/websocket.js';

export interface Served {
  port: number;
  url: string;
  /** The next accepted connection. */
  next(): Promise<WebSocket>;
}

export async function serve(t: Test, options: ServerOptions = {}): Promise<Served> {
  const wss = new WebSocketServer({ host: '127.0.0.1', keepAliveInterval: 0, ...options });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  return { port, url: `ws://127.0.0.1:${port}/`, next: () => new Promise((resolve) => wss.once('connection', resolve)) };
}

/** An async iterable of `count` chunks of `size` bytes; chunk i is filled with byte (i & 0xff). Fresh buffers (the library keeps them until written). */
export async function* chunks(count: number, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < count; i++) yield Buffer.alloc(size, i & 0xff);
}

export function turns(n = 5): Promise<void> {
  return new Promise((resolve) => {
    const step = (k: number): void => { if (k === 0) resolve(); else setImmediate(step, k - 1); };
    step(n);
  });
}
