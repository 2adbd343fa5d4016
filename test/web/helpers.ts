// What the tests of lib/web share: an echo server of this project, and a recorder of a
// browser-style WebSocket's events as short strings, in order.
import { WebSocketServer, type ServerOptions } from '../../lib/server/server.js';
import type { WebSocket as Connection } from '../../lib/websocket.js';

type Test = { teardown(fn: () => unknown): void };

/** A WebSocketServer on 127.0.0.1 echoing every message with its type; `connections` in arrival order. */
export async function echoServer(t: Test, options: ServerOptions = {}): Promise<{ server: WebSocketServer; url: string; port: number; connections: Connection[] }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  const connections: Connection[] = [];
  server.on('connection', (ws) => {
    connections.push(ws);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const { port } = await server.listen();
  t.teardown(() => server.close(100));
  return { server, url: `ws://127.0.0.1:${port}/`, port, connections };
}

/** The EventTarget side of a WHATWG-style WebSocket (ours or undici's). */
export interface BrowserLike extends EventTarget {
  readonly readyState: number;
}

/**
 * Records open, message (text data, or `<binary N>`), error and close (`close code reason
 * wasClean`) as strings; `closed` resolves after the close event.
 */
export function record(ws: BrowserLike): { events: string[]; closed: Promise<void> } {
  const events: string[] = [];
  ws.addEventListener('open', () => events.push('open'));
  ws.addEventListener('message', (e) => {
    const data = (e as MessageEvent).data as unknown;
    events.push(typeof data === 'string' ? `message ${data}` : `message <binary ${(data as Blob).size ?? (data as ArrayBuffer).byteLength}>`);
  });
  ws.addEventListener('error', () => events.push('error'));
  const closed = new Promise<void>((resolve) => {
    ws.addEventListener('close', (e) => {
      const c = e as unknown as { code: number; reason: string; wasClean: boolean };
      events.push(`close ${c.code} ${c.reason} ${c.wasClean}`);
      resolve();
    });
  });
  return { events, closed };
}

/** Resolves once `pred` holds, checked once per turn of the event loop (no time limit: tap's timeout applies). */
export async function until(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise((r) => setImmediate(r));
}

/** The DOMException name a function throws, or the error's constructor name for other errors. */
export function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof DOMException ? `DOMException ${e.name}` : (e as Error).constructor.name;
  }
  return 'nothing';
}
