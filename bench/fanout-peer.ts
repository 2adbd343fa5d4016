/**
 * Child of `bench/run.js --only fanout`.
 *
 * `server <kind>`: a fan-out server in which every connection is subscribed to one topic and a
 * message received from any connection goes to every other one: ours (`ws.subscribe` +
 * `ws.publish`), uWS.js (`ws.subscribe` + `ws.publish`), ws (a `for` loop over `wss.clients`),
 * raw (bare `net`, one write per socket per tick: bench/fanout-raw.ts).
 *
 * `client`: the subscribers and the one publisher, raw `net` sockets (independent of lib/). Each
 * subscriber only counts bytes: every message has the same size, so deliveries = bytes / frame
 * length. The publisher keeps `window` messages in flight across the whole fan-out (the next one
 * goes when the deliveries of the oldest are in), so no server is pushed into dropping.
 *
 * `server <kind> deflate` turns permessage-deflate on (threshold 1 KiB; uWS.js with its shared
 * compressor) and the client's `open` with `deflate` offers `server_no_context_takeover`, the
 * setting under which one compressed copy can serve every subscriber; `run` then learns the
 * compressed frame's length from the first delivery (the server compresses every publish of the
 * same payload to the same bytes). raw has no compressed mode.
 *
 * `cohost <name,name,...> [deflate]` starts several of these servers in one process (one port
 * each, reported as `ports` by name), for bench/ab-fanout-cohost.ts. A name is a kind, or
 * `NAME=DIR`: ours from the build in DIR (a `dist` directory).
 *
 * For `--only fanout-cross` (bench/fanout-cross.ts): `server ours <broker>` gives our server a
 * ClusterBroker (`cluster`, the bench process relays) or a RedisBroker (`redis://...`); the client
 * spreads its subscribers over several servers (`ports`) and `latency` times single messages from
 * the publisher's write to each subscriber's read.
 */
import net from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { BENCH_MASK, OP_TEXT, buildFrame, headerLength, jsonish, makePayload, upgradeRequest } from './frames.js';
import { startRawFanout } from './fanout-raw.js';
import { importLib, measureWindow, quantile, serveParent } from './util.js';

const require = createRequire(import.meta.url);
const HOST = '127.0.0.1';
const role = process.argv[2];
/** The offer of a compressed run: what lets a server share one compressed copy. */
const DEFLATE_OFFER = 'permessage-deflate; server_no_context_takeover';
const DEFLATE_THRESHOLD = 1024;

/** The broker of `server ours <broker>`: none, `cluster`, or a `redis://` URL. */
async function makeBroker(lib: any, spec: string | undefined): Promise<unknown> {
  if (spec === undefined) return undefined;
  if (spec === 'cluster') return new lib.ClusterBroker();
  const { createClient } = require('redis');
  const publisher = createClient({ url: spec, disableOfflineQueue: true });
  const subscriber = publisher.duplicate({ disableOfflineQueue: false });
  await Promise.all([publisher.connect(), subscriber.connect()]);
  return new lib.RedisBroker({ publisher, subscriber });
}

/** `libDir`: ours from another build (a `dist` directory), beside this one's (cohost). */
async function startServer(kind: string, brokerSpec: string | undefined, deflate: boolean, libDir?: string): Promise<number> {
  if (kind === 'ours') {
    const lib = libDir === undefined ? await importLib('index.js') : await import(pathToFileURL(join(libDir, 'lib', 'index.js')).href);
    const broker = await makeBroker(lib, brokerSpec);
    const server = new lib.WebSocketServer({
      host: HOST, port: 0, keepAliveInterval: 0, backlog: 4096, broker, perMessageDeflate: deflate ? { threshold: DEFLATE_THRESHOLD } : false,
    });
    server.on('connection', (ws: any) => {
      ws.subscribe('fan');
      ws.on('message', (data: Buffer, isBinary: boolean) => ws.publish('fan', data, { binary: isBinary }));
      ws.on('error', () => {});
    });
    return (await server.listen()).port;
  }
  if (kind === 'ws') {
    const { WebSocketServer } = require('ws') as typeof import('ws');
    const wss = new WebSocketServer({ host: HOST, port: 0, backlog: 4096, perMessageDeflate: deflate ? { threshold: DEFLATE_THRESHOLD } : false });
    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => {
        for (const c of wss.clients) if (c !== ws) c.send(data as Buffer, { binary: isBinary });
      });
      ws.on('error', () => {});
    });
    await new Promise<void>((r) => wss.on('listening', r));
    return (wss.address() as net.AddressInfo).port;
  }
  if (kind === 'uws') {
    const uws = require(`@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
    let token: unknown;
    const app = uws.App().ws('/*', {
      compression: deflate ? uws.SHARED_COMPRESSOR : uws.DISABLED, maxBackpressure: 1 << 30, idleTimeout: 0, maxPayloadLength: 1 << 20,
      open: (ws: any) => ws.subscribe('fan'),
      message: (ws: any, msg: ArrayBuffer, isBinary: boolean) => ws.publish('fan', msg, isBinary, deflate && msg.byteLength >= DEFLATE_THRESHOLD),
    });
    await new Promise<void>((res, rej) => app.listen(HOST, 0, (t: unknown) => (t ? ((token = t), res()) : rej(new Error('uws listen failed')))));
    return uws.us_socket_local_port(token);
  }
  if (kind === 'raw') {
    if (deflate) throw new Error('raw has no compressed mode');
    return startRawFanout(HOST, 4096);
  }
  throw new Error(`unknown server kind ${kind}`);
}

/** Connect and upgrade; resolves with the socket and the bytes after the 101 head. */
function open(port: number, extensions?: string): Promise<{ sock: net.Socket; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: HOST, noDelay: true });
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('handshake timeout')); }, 20_000);
    sock.once('error', (e) => { clearTimeout(timer); reject(e); });
    sock.once('connect', () => sock.write(upgradeRequest(HOST, port, '/', extensions)));
    let acc = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      acc = Buffer.concat([acc, c]);
      const end = acc.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      sock.off('data', onData);
      sock.removeAllListeners('error');
      if (!acc.subarray(0, 12).toString('latin1').startsWith('HTTP/1.1 101')) { sock.destroy(); reject(new Error(`refused: ${acc.subarray(0, 40)}`)); return; }
      if (extensions !== undefined && !/permessage-deflate/i.test(acc.subarray(0, end).toString('latin1'))) {
        sock.destroy();
        reject(new Error('the server did not accept permessage-deflate'));
        return;
      }
      resolve({ sock, rest: acc.subarray(end + 4) });
    };
    sock.on('data', onData);
  });
}

const subs: net.Socket[] = [];
let publisher: net.Socket | null = null;
/** Bytes received by all subscribers since the last `run` began. */
let received = 0;
let onProgress: (() => void) | null = null;

/** Set while `latency` waits for one message: called on every subscriber read. */
let onArrival: (() => void) | null = null;
/** Set while a compressed run learns its frame length: the first subscriber's reads. */
let probe: ((chunk: Buffer) => void) | null = null;
/** The connections offered permessage-deflate. */
let compressed = false;

function onSubData(chunk: Buffer): void {
  received += chunk.length;
  onArrival?.();
  onProgress?.();
}

/** `n` subscribers, round-robin over `ports` (default: `port`), and the publisher on `port`. */
async function openAll({ port, n, ports = [port], deflate = false }: { port: number; n: number; ports?: number[]; deflate?: boolean }): Promise<number> {
  let next = 0;
  compressed = deflate;
  const ext = deflate ? DEFLATE_OFFER : undefined;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const { sock } = await open(ports[next++ % ports.length]!, ext);
      if (subs.length === 0) sock.on('data', (c: Buffer) => probe?.(c));
      sock.on('data', onSubData);
      sock.on('error', () => {});
      subs.push(sock);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  publisher = (await open(port, ext)).sock;
  publisher.on('error', () => {});
  return subs.length;
}

/**
 * The length of the frame every subscriber gets for `msg`, from the first subscriber's first
 * delivery (a compressed run: the server's compression decides it); resolves once every subscriber
 * has it.
 */
async function learnFrameLength(msg: Buffer, n: number): Promise<number> {
  received = 0;
  const head = await new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => { probe = null; reject(new Error('no delivery in 10 s')); }, 10_000);
    probe = (c) => { clearTimeout(timer); probe = null; resolve(c); };
    publisher!.write(msg);
  });
  if ((head[0]! & 0x40) === 0) throw new Error('the server sent the message uncompressed');
  const len7 = head[1]! & 0x7f;
  const frameLen = len7 < 126 ? 2 + len7 : len7 === 126 ? 4 + head.readUInt16BE(2) : 10 + Number(head.readBigUInt64BE(2));
  for (let i = 0; i < 400 && received < n * frameLen; i++) await new Promise((r) => setTimeout(r, 25));
  if (received !== n * frameLen) throw new Error(`compressed frames of unequal length: ${received} bytes for ${n} subscribers of ${frameLen}`);
  return frameLen;
}

/**
 * Publish `size`-byte text messages with `window` in flight; deliveries/s over the measured window.
 * Compressed connections (open with `deflate`) get JSON-like text, which compresses like real traffic.
 */
async function run({ size, window, warmupMs, durationMs }: { size: number; window: number; warmupMs: number; durationMs: number }) {
  const n = subs.length;
  const msg = buildFrame(compressed ? jsonish(size) : makePayload(size, true), OP_TEXT, BENCH_MASK);
  const frameLen = compressed ? await learnFrameLength(msg, n) : headerLength(size, false) + size;
  received = 0;
  let sent = 0;
  let counting = false;
  let countedFrom = 0;
  let counted = 0;
  let lastProgress = Date.now();
  const pump = (): void => {
    const delivered = Math.floor(received / frameLen);
    if (counting) counted = delivered - countedFrom;
    lastProgress = Date.now();
    // In flight: messages whose deliveries are not all in yet.
    while (sent * n - delivered < window * n) {
      publisher!.write(msg);
      sent++;
    }
  };
  onProgress = pump;
  pump();
  const stall = setInterval(() => {
    if (Date.now() - lastProgress > 5000) onProgress = null;
  }, 1000);
  const w = await measureWindow(warmupMs, durationMs, (on) => {
    if (on) countedFrom = Math.floor(received / frameLen);
    counting = on;
  });
  onProgress = null;
  clearInterval(stall);
  const stalled = Date.now() - lastProgress > 5000;
  // Let the in-flight messages land before the next cell (a slow server may take seconds: wait
  // while they still arrive, up to 1 s without progress).
  const want = sent * frameLen * n;
  for (let last = received, still = 0; received < want && still < 40;) {
    await new Promise((r) => setTimeout(r, 25));
    if (received === last) still++;
    else { still = 0; last = received; }
  }
  // delivered: every delivery of the run, warm-up included (the server's CPU time over the run is divided by it).
  return { deliveriesPerSec: counted / w.seconds, cpuPct: w.cpuPct, subscribers: n, stalled, lost: Math.max(0, want - received) / frameLen,
    delivered: Math.floor(received / frameLen) };
}

/**
 * `count` messages one at a time (the next when every subscriber has the last): milliseconds from
 * the publisher's write to each subscriber's read, p50 and p99 over all of them.
 */
async function latency({ size, count }: { size: number; count: number }) {
  const n = subs.length;
  const want = n * (headerLength(size, false) + size);
  const msg = buildFrame(makePayload(size, true), OP_TEXT, BENCH_MASK);
  const samples = new Float64Array(count * n);
  let k = 0;
  for (let i = 0; i < count; i++) {
    received = 0;
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { onArrival = null; reject(new Error(`latency: message ${i} did not reach every subscriber in 10 s`)); }, 10_000);
      onArrival = () => {
        if (k < samples.length) samples[k++] = performance.now() - t0;
        if (received >= want) { clearTimeout(timer); onArrival = null; resolve(); }
      };
      publisher!.write(msg);
    });
  }
  const sorted = samples.subarray(0, k).sort();
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), samples: k };
}

/** The server process's CPU time so far (the parent divides the difference over a run by its deliveries). */
function serverStats(): { cpuUs: number; t: number } {
  const c = process.cpuUsage();
  return { cpuUs: c.user + c.system, t: Date.now() };
}

if (role === 'cohost') {
  // cohost <name,name,...> [deflate]: several servers in this one process (bench/ab-fanout-cohost.ts).
  const deflate = process.argv.includes('deflate');
  const ports: Record<string, number> = {};
  for (const name of (process.argv[3] ?? 'ours').split(',')) {
    const [label, dir] = name.split('=') as [string, string | undefined];
    ports[label] = await startServer(dir === undefined ? name : 'ours', undefined, deflate, dir);
  }
  serveParent({ stats: serverStats }, { ports });
} else if (role === 'server') {
  // server <kind> [broker] [deflate]
  const extra = process.argv.slice(4);
  const port = await startServer(process.argv[3] ?? 'ours', extra.find((a) => a !== 'deflate'), extra.includes('deflate'));
  serveParent({ stats: serverStats }, { port });
} else {
  serveParent({ open: openAll, run, latency, closeAll: () => { for (const s of [...subs, publisher]) s?.destroy(); subs.length = 0; return 0; } });
}
