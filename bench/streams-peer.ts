/**
 * Child of `bench/run.js --only streams`: two servers of ours, one that pipes each message back as
 * it arrives (`streamMessages`, `messageStream` -> `sendStream()`), one that echoes whole messages;
 * or, with the argument `raw`, only a bare TCP echo (`net.createServer((s) => s.pipe(s))`) and no
 * import of the library, the floor Node itself reaches. It samples its own RSS every 5 ms so the
 * parent can ask for the peak of a cell.
 */
import { createServer, type AddressInfo } from 'node:net';
import { importLib, serveParent } from './util.js';

const ports = process.argv.includes('raw') ? await rawServer() : await ourServers();

async function rawServer(): Promise<Record<string, number>> {
  const server = createServer((s) => { s.on('error', () => s.destroy()); s.pipe(s); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { rawPort: (server.address() as AddressInfo).port };
}

async function ourServers(): Promise<Record<string, number>> {
  const lib = await importLib('index.js');
  const streaming = new lib.WebSocketServer({ port: 0, host: '127.0.0.1', keepAliveInterval: 0, streamMessages: true, maxStreamPayload: Infinity });
  streaming.on('connection', (ws: any) => {
    ws.on('messageStream', (stream: any, isBinary: boolean) => {
      ws.sendStream(stream, { binary: isBinary }).catch(() => ws.terminate());
    });
  });
  const whole = new lib.WebSocketServer({ port: 0, host: '127.0.0.1', keepAliveInterval: 0, maxPayload: 32 << 20, maxSendQueue: 256 << 20 });
  whole.on('connection', (ws: any) => ws.on('message', (d: Buffer, isBinary: boolean) => ws.send(d, { binary: isBinary })));
  const [a, b] = await Promise.all([streaming.listen(), whole.listen()]);
  return { streamingPort: a.port, wholePort: b.port };
}

let peak = 0;
const sample = (): void => { peak = Math.max(peak, process.memoryUsage().rss); };
setInterval(sample, 5).unref();

serveParent({
  /** Start a cell: collect garbage, then the peak from now on. */
  reset() {
    (globalThis as { gc?: () => void }).gc?.();
    peak = 0;
    sample();
    return peak;
  },
  peak() {
    sample();
    return peak;
  },
}, ports);
