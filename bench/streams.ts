/**
 * `--only streams` of bench/run.js: one large message streamed through a server that pipes it back
 * (`streamMessages` + `sendStream()`), against whole-message echo of the same bytes in 16 MiB
 * messages: MB/s of the round trip and the server's peak RSS (goal for streaming: under 64 MiB).
 * Beside them the floor: the same bytes in the same 1 MiB writes through a bare Node TCP echo
 * (`s.pipe(s)`) in the same kind of child without the library, whose peak RSS is what Node's own
 * socket reads cost before any WebSocket code runs. The servers run in a child (bench/streams-peer.ts)
 * pinned to one core, the client here.
 */
import { connect as netConnect } from 'node:net';
import { importLib, sleep, startChild } from './util.js';

export interface StreamsResult {
  size: number;
  streamMBps: number;
  streamPeakRss: number;
  wholeMBps: number;
  wholePeakRss: number;
  idleRss: number;
  rawMBps: number;
  rawPeakRss: number;
  rawIdleRss: number;
}

const CHUNK = 1 << 20;
const WHOLE_MESSAGE = 16 << 20;

/** Run the three cells once on `size` bytes (a multiple of 16 MiB). */
export async function runStreams(size: number, cpu: number | undefined): Promise<StreamsResult> {
  return { ...await runOurs(size, cpu), ...await runRaw(size, cpu) };
}

/** The floor: `size` bytes written in CHUNK writes (fresh buffers, as the streamed source) to a bare TCP echo and read back. */
async function runRaw(size: number, cpu: number | undefined): Promise<Pick<StreamsResult, 'rawMBps' | 'rawPeakRss' | 'rawIdleRss'>> {
  const server = startChild('streams-peer.js', { cpu, nodeArgs: ['--expose-gc'], args: ['raw'] });
  try {
    const { rawPort } = await server.ready;
    await sleep(200);
    const rawIdleRss = await server.request('reset');
    const socket = netConnect(rawPort, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    await server.request('reset');
    const t0 = process.hrtime.bigint();
    const echoed = new Promise<number>((resolve, reject) => {
      let n = 0;
      socket.on('data', (c: Buffer) => { n += c.length; if (n >= size) resolve(n); });
      socket.once('error', reject);
      socket.once('close', () => resolve(n));
    });
    for (let off = 0; off < size; off += CHUNK) {
      if (!socket.write(Buffer.allocUnsafe(CHUNK))) await new Promise((r) => socket.once('drain', r));
    }
    const back = await echoed;
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    if (back !== size) throw new Error(`raw echo returned ${back} of ${size} bytes`);
    const rawPeakRss = await server.request('peak');
    socket.destroy();
    return { rawIdleRss, rawPeakRss, rawMBps: size / 1e6 / secs };
  } finally {
    await server.stop();
  }
}

async function runOurs(size: number, cpu: number | undefined): Promise<Omit<StreamsResult, 'rawMBps' | 'rawPeakRss' | 'rawIdleRss'>> {
  const lib = await importLib('index.js');
  if (!lib) throw new Error('lib/index.js is not built');
  const server = startChild('streams-peer.js', { cpu, nodeArgs: ['--expose-gc'] });
  try {
    const { streamingPort, wholePort } = await server.ready;
    await sleep(200);
    const idleRss = await server.request('reset');

    // Streamed: one message of `size` bytes, sent from a generator, read back as it arrives.
    const ws = await lib.connect(`ws://127.0.0.1:${streamingPort}/`, { keepAliveInterval: 0, streamMessages: true, maxStreamPayload: Infinity });
    await server.request('reset');
    let t0 = process.hrtime.bigint();
    const echoed = new Promise<number>((resolve, reject) => {
      ws.once('messageStream', async (stream: AsyncIterable<Buffer>) => {
        let n = 0;
        try { for await (const c of stream) n += c.length; } catch (e) { reject(e); return; }
        resolve(n);
      });
    });
    async function* source(): AsyncGenerator<Buffer> {
      for (let off = 0; off < size; off += CHUNK) yield Buffer.allocUnsafe(CHUNK);
    }
    await ws.sendStream(source());
    const back = await echoed;
    const streamSecs = Number(process.hrtime.bigint() - t0) / 1e9;
    if (back !== size) throw new Error(`streamed echo returned ${back} of ${size} bytes`);
    const streamPeakRss = await server.request('peak');
    ws.close();
    await sleep(300);

    // Whole messages: size / 16 MiB messages, at most two in flight each way.
    const whole = await lib.connect(`ws://127.0.0.1:${wholePort}/`, { keepAliveInterval: 0, maxPayload: 32 << 20, maxSendQueue: 256 << 20 });
    await server.request('reset');
    const count = size / WHOLE_MESSAGE;
    const payload = Buffer.allocUnsafe(WHOLE_MESSAGE);
    t0 = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      let sent = 0;
      let got = 0;
      const sendNext = (): void => { if (sent < count) { sent++; whole.send(payload); } };
      whole.on('message', () => {
        if (++got === count) resolve();
        else sendNext();
      });
      sendNext();
      sendNext();
    });
    const wholeSecs = Number(process.hrtime.bigint() - t0) / 1e9;
    const wholePeakRss = await server.request('peak');
    whole.close();
    return {
      size, idleRss, streamPeakRss, wholePeakRss,
      streamMBps: size / 1e6 / streamSecs,
      wholeMBps: size / 1e6 / wholeSecs,
    };
  } finally {
    await server.stop();
  }
}
