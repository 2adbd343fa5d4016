/**
 * Child process: one echo server of the given kind on 127.0.0.1 (ephemeral port), echoing each
 * message back with the same type. Kinds: ours (lib/server/server.ts), ws (set WS_NO_BUFFER_UTIL=1 in the
 * environment for the pure-JS build), raw (a net echo of the same bytes: the TCP ceiling), uws.
 * Answers `stats` (RSS after GC, CPU time, open connections, active handles) over IPC.
 *
 * usage (spawned by run.ts/soak.ts/capacity.ts): node echo-server.js <kind> [deflate] [listeners=K]
 */
import net from 'node:net';
import { createRequire } from 'node:module';
import { importLib, serveParent } from './util.js';

const require = createRequire(import.meta.url);
const kind = process.argv[2] ?? 'raw';
const deflate = process.argv.includes('deflate');
/** Listening ports (capacity run): each gives the client another ~28k ephemeral ports. */
const listeners = Math.max(1, Number(process.argv.find((a) => a.startsWith('listeners='))?.slice(10) ?? 1));
const MAX_PAYLOAD = 128 * 1024 * 1024;
/** Same threshold for every compressing server: messages under 1 KiB go out uncompressed. */
const DEFLATE_THRESHOLD = 1024;

let open = 0;
let total = 0;
const closers: Array<() => Promise<void> | void> = [];

async function start(): Promise<number> {
  if (kind === 'raw') {
    const srv = net.createServer((s) => {
      s.setNoDelay(true);
      open++; total++;
      s.on('data', (c) => s.write(c));
      s.on('error', () => {});
      s.on('close', () => { open--; });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', 2048, r));
    closers.push(() => new Promise<void>((r) => srv.close(() => r())));
    return (srv.address() as net.AddressInfo).port;
  }
  if (kind === 'ws') {
    const { WebSocketServer } = require('ws') as typeof import('ws');
    const wss = new WebSocketServer({
      host: '127.0.0.1', port: 0, backlog: 2048, maxPayload: MAX_PAYLOAD, clientTracking: false,
      perMessageDeflate: deflate ? { threshold: DEFLATE_THRESHOLD } : false,
    });
    wss.on('connection', (ws) => {
      open++; total++;
      ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
      ws.on('error', () => {});
      ws.on('close', () => { open--; });
    });
    await new Promise<void>((r) => wss.on('listening', r));
    closers.push(() => new Promise<void>((r) => wss.close(() => r())));
    return (wss.address() as net.AddressInfo).port;
  }
  if (kind === 'uws') {
    const uws = loadUws();
    if (!uws) throw new Error('uWebSockets.js does not load on this machine');
    let token: unknown;
    const app = uws.App().ws('/*', {
      compression: deflate ? uws.SHARED_COMPRESSOR : uws.DISABLED,
      maxPayloadLength: MAX_PAYLOAD, maxBackpressure: 1 << 30, idleTimeout: 0,
      open: () => { open++; total++; },
      message: (ws: any, msg: ArrayBuffer, isBinary: boolean) => {
        ws.send(msg, isBinary, deflate && msg.byteLength >= DEFLATE_THRESHOLD);
      },
      close: () => { open--; },
    });
    await new Promise<void>((res, rej) => app.listen('127.0.0.1', 0, (t: unknown) => {
      if (!t) rej(new Error('uws listen failed')); else { token = t; res(); }
    }));
    closers.push(() => uws.us_listen_socket_close(token));
    return uws.us_socket_local_port(token);
  }
  if (kind === 'ours') {
    const mod = await importLib('server/server.js');
    if (!mod?.WebSocketServer) throw new Error('lib/server/server.js (WebSocketServer) is not available yet');
    const wss = new mod.WebSocketServer({
      host: '127.0.0.1', port: 0, maxPayload: MAX_PAYLOAD,
      perMessageDeflate: deflate ? { threshold: DEFLATE_THRESHOLD } : false,
    });
    wss.on('connection', (ws: any) => {
      open++; total++;
      ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
      ws.on('error', () => {});
      ws.on('close', () => { open--; });
    });
    wss.on('error', () => {});
    const addr = await wss.listen();
    closers.push(() => wss.close(1000));
    return addr.port;
  }
  throw new Error(`unknown server kind ${kind}`);
}

/** The uWebSockets.js binary for this Node ABI, or null (never the package's JS fallback). */
export function loadUws(): any | null {
  try {
    return require(`@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  } catch {
    return null;
  }
}

function stats(args: { gc?: boolean }) {
  if (args?.gc && typeof (globalThis as any).gc === 'function') {
    (globalThis as any).gc(); (globalThis as any).gc();
  }
  const m = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers,
    cpuUs: cpu.user + cpu.system, t: Date.now(), open, total,
    handles: process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length,
  };
}

if (process.send) {
  process.on('uncaughtException', (e) => { console.error(`echo-server ${kind}: uncaught`, e); });
  (async () => {
    const ports: number[] = [];
    for (let i = 0; i < listeners; i++) ports.push(await start());
    return ports;
  })().then((ports) => {
    serveParent({
      stats,
      close: async () => { for (const c of closers) await c(); return stats({ gc: true }); },
    }, { port: ports[0], ports, kind, deflate });
  }, (e) => {
    process.send!({ type: 'ready', error: String(e?.message ?? e) });
    setTimeout(() => process.exit(1), 100);
  });
}
