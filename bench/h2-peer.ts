/**
 * Child of `bench/run.js --only h2`: `server` runs our WebSocketServer with `http2: true` (cleartext:
 * HTTP/1.1 upgrades and h2c on one port, so TLS costs neither side); `client` opens WebSockets with
 * our own client (`http: '2'`: all on one pooled session; `http: '1.1'`: one TCP connection each) and
 * runs echo load on them.
 */
import { importLib, serveParent } from './util.js';

const role = process.argv[2];
const lib = await importLib('index.js');
const gc = (globalThis as { gc?: () => void }).gc;

function mem(): { rss: number; heap: number } {
  gc?.(); gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external + m.arrayBuffers };
}

if (role === 'server') {
  const server = new lib.WebSocketServer({ port: 0, host: '127.0.0.1', http2: true, keepAliveInterval: 0, maxConcurrentStreams: 4096 });
  server.on('connection', (ws: any) => ws.on('message', (d: Buffer, bin: boolean) => ws.send(d, { binary: bin })));
  const { port } = await server.listen();
  serveParent({ mem: () => ({ ...mem(), clients: server.clients.size }) }, { port });
} else {
  let sockets: any[] = [];
  serveParent({
    async open({ port, http, n }: { port: number; http: '1.1' | '2'; n: number }) {
      const url = `ws://127.0.0.1:${port}/`;
      for (let i = 0; i < n; i += 100) {
        const batch = await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => lib.connect(url, { http, keepAliveInterval: 0, maxPayload: 4 << 20 })));
        sockets.push(...batch);
      }
      return sockets.length;
    },
    /** Echo load: `inflight` messages of `size` bytes per socket, each echo answered by the next; counts echoes in the window. */
    async echo({ size, inflight, warmupMs, ms }: { size: number; inflight: number; warmupMs: number; ms: number }) {
      const payload = Buffer.alloc(size, 0x61);
      let counting = false;
      let count = 0;
      let running = true;
      const handlers = sockets.map((ws) => {
        const h = (): void => {
          if (counting) count++;
          if (running) ws.send(payload, { binary: true });
        };
        ws.on('message', h);
        for (let i = 0; i < inflight; i++) ws.send(payload, { binary: true });
        return h;
      });
      await new Promise((r) => setTimeout(r, warmupMs));
      counting = true;
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await new Promise((r) => setTimeout(r, ms));
      counting = false;
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = process.cpuUsage(c0);
      running = false;
      // Let what is in flight drain before the next cell reuses the sockets.
      await new Promise((r) => setTimeout(r, 300));
      sockets.forEach((ws, i) => ws.off('message', handlers[i]));
      return { msgsPerSec: count / seconds, bytesPerSec: (count * size) / seconds, clientCpuPct: ((cpu.user + cpu.system) / 1e6 / seconds) * 100 };
    },
    async closeAll() {
      await Promise.all(sockets.map((ws) => new Promise<void>((r) => { ws.once('close', () => r()); ws.close(); })));
      sockets = [];
      return 0;
    },
  });
}
