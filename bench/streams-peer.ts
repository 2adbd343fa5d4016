/**
 * Child of `bench/run.js --only streams`: two servers of ours, one that pipes each message back as
 * it arrives (`streamMessages`, `messageStream` -> `sendStream()`), one that echoes whole messages;
 * it samples its own RSS every 5 ms so the parent can ask for the peak of a cell.
 */
import { importLib, serveParent } from './util.js';

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
}, { streamingPort: a.port, wholePort: b.port });
