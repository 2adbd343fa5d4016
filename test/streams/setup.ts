/** Shared setup of the stream tests: a server on 127.0.0.1 and its next connection. */
export type Test = Parameters<Parameters<typeof import('tap').test>[0]>[0];
import { WebSocketServer, type ServerOptions } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';
import type { MessageStream } from '../../lib/incoming-stream.js';
import { sampleLiveArrayBuffers } from '../helpers/live-memory.js';

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

/** The next `messageStream` of `ws`. */
export function nextStream(ws: WebSocket): Promise<MessageStream> {
  return new Promise((resolve) => ws.once('messageStream', (stream: MessageStream) => resolve(stream)));
}

/** Read a MessageStream to its end: the bytes and how many chunks they came in. */
export async function collect(stream: MessageStream): Promise<{ data: Buffer; pieces: number }> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return { data: Buffer.concat(parts), pieces: parts.length };
}

/**
 * `sender` streams one message of `size` bytes in `chunk`-sized pieces (chunk i filled with
 * i & 0xff) to `receiver` (in stream mode); the receiver reads it to the end, checking the first
 * and last byte of each piece. Peak growth of live arrayBuffers in this process (after a full GC
 * each sample) is measured meanwhile.
 */
export async function streamThrough(t: Test, sender: WebSocket, receiver: WebSocket, size: number, chunk: number):
  Promise<{ received: number; wrong: number; pieces: number; peak: number }> {
  const streamP = nextStream(receiver);
  const sampler = sampleLiveArrayBuffers();
  t.teardown(() => sampler.stop());
  const sending = sender.sendStream(chunks(size / chunk, chunk));
  let received = 0;
  let wrong = 0;
  let pieces = 0;
  for await (const c of await streamP) {
    const b = c as Buffer;
    if (b[0] !== (Math.floor(received / chunk) & 0xff) || b[b.length - 1] !== (Math.floor((received + b.length - 1) / chunk) & 0xff)) wrong++;
    received += b.length;
    pieces++;
  }
  await sending;
  const peak = sampler.stop();
  await turns();
  return { received, wrong, pieces, peak };
}
