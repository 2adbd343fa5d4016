// A recording transport (a wrapper around lib/transport/pipe.ts that remembers every array of
// chunks written through it) and server-role subscribers over it, for the encode-once and
// batching tests.
import { PerMessageDeflate } from '../../lib/extensions/permessage-deflate.js';
import type { ServerPubSub } from '../../lib/pubsub/pubsub.js';
import { createPipe, type PipeTransport } from '../../lib/transport/pipe.js';
import type { Transport, TransportListener } from '../../lib/transport/transport.js';
import { WebSocket } from '../../lib/websocket.js';
import { FrameDecoder, type Frame } from '../helpers/frames.js';

/** A transport that remembers every array of chunks written through it. */
export class Recording implements Transport {
  readonly writes: Buffer[][] = [];
  constructor(private readonly inner: PipeTransport) {}
  bind(l: TransportListener): void { this.inner.bind(l); }
  write(chunks: Buffer[]): boolean { this.writes.push(chunks); return this.inner.write(chunks); }
  end(): void { this.inner.end(); }
  destroy(): void { this.inner.destroy(); }
  pauseReading(): void { this.inner.pauseReading(); }
  resumeReading(): void { this.inner.resumeReading(); }
  get writableLength(): number { return this.inner.writableLength; }
  get writableNeedDrain(): boolean { return this.inner.writableNeedDrain; }
  whenFlushed(cb: () => void): void { this.inner.whenFlushed(cb); }
  readonly remoteAddress = undefined;
  readonly remotePort = undefined;
  readonly tls = null;
}

export const noSignals = { drop: () => {}, brokerError: () => {} };

/** A server-role WebSocket on the topics of `pubsub`, over a recording pipe; the far end decodes frames. */
export function subscriber(pubsub: ServerPubSub, deflate?: { noContextTakeover: boolean; windowBits?: number }) {
  const [a, b] = createPipe({ highWaterMark: 1 << 30 });
  const transport = new Recording(a);
  const transform = deflate === undefined ? null : new PerMessageDeflate('server', {
    serverNoContextTakeover: deflate.noContextTakeover, clientNoContextTakeover: false,
    serverMaxWindowBits: deflate.windowBits ?? 15, clientMaxWindowBits: 15,
  }, { maxPayload: 0 });
  const ws = new WebSocket({
    role: 'server', transport, head: Buffer.alloc(0), protocol: '', extensions: '', transform,
    options: { keepAliveInterval: 0 }, topics: pubsub.topics,
  });
  const frames: Frame[] = [];
  const decoder = new FrameDecoder();
  b.bind({ onData: (c) => frames.push(...decoder.push(c)), onDrain() {}, onTransportError() {}, onTransportClose() {} });
  return { ws, transport, frames, far: b };
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** Turns of the event loop until `done()` holds (zlib runs on the thread pool: how long is up to the machine), at most 10 s. */
export async function until(done: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!done() && Date.now() < end) await new Promise((r) => setImmediate(r));
}

/** After the tick's own callbacks: publishes of this tick have been written. */
export function endOfTick(): Promise<void> {
  return new Promise((r) => process.nextTick(r));
}
