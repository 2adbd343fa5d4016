/**
 * The publish loop alone, in one process: `server.publish` of a 16 B message to N server-role
 * connections, 16 publishes per tick. `--transport recording` (default): transports that only
 * remember what they are handed, so what is counted is topics + WebSocket + Connection per
 * subscriber. `--transport socket`: lib/transport/socket.ts over a stand-in socket whose write()
 * does nothing, so the per-tick flush is counted too, but not Node's Writable or the syscall.
 * `--transport stream`: lib/transport/socket.ts over a real `node:stream` Duplex whose write
 * completes at once, so Node's Writable bookkeeping (cork, buffering, callbacks) is counted but
 * not the syscall: the most repeatable A/B of the transport's write path.
 * `--transport net`: lib/transport/socket.ts over real loopback sockets whose other ends are
 * paused (they never read, so no reader is woken): the whole send path of one process, kernel
 * included, without a second process sharing the machine. Keep publishes × 18 B within the
 * sockets' buffers (about 3000 publishes); needs `ulimit -n` above twice --subs.
 *
 *   node dist/bench/publish-loop.js [--subs 1000] [--publishes 2000] [--warmup 2000] [--size 16]
 *                                   [--transport recording|socket|stream|net]
 *
 * `--size` is the payload in bytes (16 publishes of 1 KiB make a batch above the transport's
 * small-chunk limit, which takes the large-chunk path).
 *
 * Prints CPU ns per delivery (`process.cpuUsage()` over the measured publishes). For a
 * load-independent count, run it under `valgrind --tool=callgrind` twice with different
 * `--publishes` and divide the difference in instructions (Ir) by the difference in deliveries.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { ServerPubSub } from '../lib/pubsub/pubsub.js';
import { SocketTransport } from '../lib/transport/socket.js';
import type { Transport, TransportListener } from '../lib/transport/transport.js';
import { WebSocket } from '../lib/websocket.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}

/** Keeps the chunk arrays of the current round, like a socket transport gathering a tick's frames. */
class Recording implements Transport {
  chunks: Buffer[][] = [];
  bytes = 0;
  bind(_l: TransportListener): void {}
  write(chunks: Buffer[]): boolean {
    this.chunks.push(chunks);
    return true;
  }
  end(): void {}
  destroy(): void {}
  pauseReading(): void {}
  resumeReading(): void {}
  get writableLength(): number { return this.bytes; }
  get writableNeedDrain(): boolean { return false; }
  whenFlushed(cb: () => void): void { cb(); }
  readonly remoteAddress = undefined;
  readonly remotePort = undefined;
  readonly tls = null;
}

/** The parts of a net.Socket that SocketTransport touches; write() drops the bytes. */
class StandInSocket {
  destroyed = false;
  writableEnded = false;
  writableNeedDrain = false;
  writableLength = 0;
  writableCorked = 0;
  closed = false;
  remoteAddress = '127.0.0.1';
  remotePort = 1;
  on(): this { return this; }
  resume(): void {}
  pause(): void {}
  setNoDelay(): void {}
  setTimeout(): void {}
  cork(): void { this.writableCorked++; }
  uncork(): void { this.writableCorked--; }
  write(_b: Buffer): boolean { return true; }
}

/** A Duplex with no I/O: writes complete synchronously, as a socket's do when the kernel takes them. */
function nullStream(): Duplex {
  return new Duplex({
    read() {},
    write(_c, _e, cb) { cb(); },
    writev(_cs, cb) { cb(); },
  });
}

const mode = (['socket', 'stream', 'net'] as const).find((m) => process.argv.includes(m)) ?? 'recording';

/** `n` connected loopback pairs: the accepted ends (ours to write) and the dialled ends, paused. */
async function loopbackPairs(n: number): Promise<Socket[]> {
  const accepted: Socket[] = [];
  const server = createServer({ noDelay: true }, (s) => accepted.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  for (let i = 0; i < n; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, n - i) }, () => new Promise<void>((resolve, reject) => {
      const c = createConnection({ port, host: '127.0.0.1' }, () => { c.pause(); resolve(); });
      c.on('error', reject);
    })));
  }
  while (accepted.length < n) await new Promise((r) => setImmediate(r));
  server.close();
  return accepted;
}
const netSockets = mode === 'net' ? await loopbackPairs(arg('subs', 1000)) : [];
const subs = arg('subs', 1000);
const publishes = arg('publishes', 2000);
const warmup = arg('warmup', 2000);
const pubsub = new ServerPubSub({}, null, { drop: () => {}, brokerError: () => {} });
const transports: Recording[] = [];
for (let i = 0; i < subs; i++) {
  const transport = mode === 'socket' ? new SocketTransport(new StandInSocket() as unknown as Socket)
    : mode === 'stream' ? new SocketTransport(nullStream() as unknown as Socket)
    : mode === 'net' ? new SocketTransport(netSockets[i]!) : new Recording();
  if (transport instanceof Recording) transports.push(transport);
  const ws = new WebSocket({
    role: 'server', transport, head: Buffer.alloc(0), protocol: '', extensions: '', transform: null,
    options: { keepAliveInterval: 0 }, topics: pubsub.topics,
  });
  ws.subscribe('t');
}
const payload = Buffer.alloc(arg('size', 16), 0x61);
/** `k` publishes, 16 per tick; at the end of each tick the batch is written and the transports flush (recording ones then let go of what they hold). */
async function round(k: number): Promise<number> {
  let n = 0;
  for (let i = 0; i < k; i++) {
    n += pubsub.publish('t', payload);
    if ((i & 15) === 15) {
      // The tick's batch is written at its end, then dropped.
      await new Promise((r) => setImmediate(r));
      for (const t of transports) t.chunks = [];
    }
  }
  return n;
}
await round(warmup);
const c0 = process.cpuUsage();
const delivered = await round(publishes);
const c = process.cpuUsage(c0);
if (delivered !== publishes * subs) throw new Error(`delivered ${delivered}, expected ${publishes * subs}`);
console.log(`${subs} subscribers, ${publishes} publishes of ${payload.length} B (${mode}): ${(((c.user + c.system) * 1e3) / Math.max(1, delivered)).toFixed(1)} ns CPU per delivery`);
process.exit(0);
