// Helpers for the hostile-peer tests (the raw peer and the frame codec are the shared
// ones in test/helpers/): a TCP middlebox that can cut or silence a connection,
// before/after snapshots of the process's active handles and timers, a deflate bomb.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { isValidWireCloseCode } from '../../lib/protocol/close.js';
import { WebSocketServer, type ServerOptions } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';

export const MiB = 1024 * 1024;

type Test = { teardown(fn: () => unknown): void };

/** A standalone server on 127.0.0.1 with keepalive off unless asked; closed at teardown. */
export async function listen(t: Test, options: ServerOptions = {}): Promise<{ wss: WebSocketServer; port: number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', keepAliveInterval: 0, ...options });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  return { wss, port };
}

/** A close event as recorded by {@link track}. */
export interface CloseRecord {
  code: number;
  reason: string;
  wasClean: boolean;
}

/** Counts every `close` event of `ws` (a second one is a bug the caller can see). */
export function track(ws: WebSocket): { closes: CloseRecord[]; closed: Promise<CloseRecord> } {
  const closes: CloseRecord[] = [];
  const closed = new Promise<CloseRecord>((resolve) => {
    ws.on('close', (code: number, reason: string, wasClean: boolean) => {
      closes.push({ code, reason, wasClean });
      resolve({ code, reason, wasClean });
    });
  });
  return { closes, closed };
}

/** A code a `close` event may carry: one a peer may send, or 1005 / 1006 (never on the wire). */
export function isReportableCloseCode(code: number): boolean {
  return code === 1005 || code === 1006 || isValidWireCloseCode(code);
}

/**
 * A TCP middlebox between a client and a server. Bytes are forwarded both ways
 * until the test cuts the connection: `rst` (reset both sides), `fin` (end
 * both sides), or `silence` (stop forwarding, keep both sockets open: a
 * half-open path). `limitToServer` stops forwarding client bytes after that
 * many have passed (to cut in the middle of a frame).
 */
export class Middlebox {
  readonly server: net.Server;
  port = 0;
  private readonly pairs = new Set<{ down: net.Socket; up: net.Socket }>();
  private silenced = false;
  limitToServer = Infinity;
  forwardedToServer = 0;

  constructor(private readonly targetPort: number) {
    this.server = net.createServer((down) => {
      const up = net.connect(this.targetPort, '127.0.0.1');
      const pair = { down, up };
      this.pairs.add(pair);
      down.on('error', () => {});
      up.on('error', () => {});
      down.on('data', (chunk: Buffer) => {
        if (this.silenced) return;
        const room = this.limitToServer - this.forwardedToServer;
        if (room <= 0) return;
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        this.forwardedToServer += part.length;
        up.write(part);
      });
      up.on('data', (chunk: Buffer) => {
        if (!this.silenced) down.write(chunk);
      });
      const gone = (): void => {
        this.pairs.delete(pair);
        down.destroy();
        up.destroy();
      };
      down.on('close', gone);
      up.on('close', gone);
    });
  }

  async start(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Bytes passed from client to server so far. */
  cut(mode: 'rst' | 'fin' | 'silence'): void {
    if (mode === 'silence') {
      this.silenced = true;
      return;
    }
    for (const { down, up } of this.pairs) {
      if (mode === 'rst') {
        down.resetAndDestroy();
        up.resetAndDestroy();
      } else {
        down.end();
        up.end();
      }
    }
  }

  /** Destroy everything (teardown). */
  close(): void {
    for (const { down, up } of this.pairs) {
      down.destroy();
      up.destroy();
    }
    this.server.close();
  }
}

/** Counts of the process's active resources by type (sockets, servers, ref'ed timers, immediates...). */
export function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/** Resource types present now in larger numbers than in `before`, as "Type: before -> now". */
export function leaked(before: Record<string, number>): string[] {
  const now = resources();
  const out: string[] = [];
  for (const [name, n] of Object.entries(now)) {
    if (n > (before[name] ?? 0)) out.push(`${name}: ${before[name] ?? 0} -> ${n}`);
  }
  return out;
}

/** Poll until nothing has leaked relative to `before` or `ms` elapsed; returns what is still there. */
export async function settle(before: Record<string, number>, ms = 5000): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = leaked(before);
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(20);
  }
}

/** Wait until `cond()` or `ms` elapsed; returns cond(). */
export async function waitFor(cond: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await sleep(10);
  return cond();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The soft file-descriptor limit of this process (from the shell), or 1024 when unknown. */
export function fdLimit(): number {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    if (out === 'unlimited') return 1 << 20;
    const n = Number(out);
    return Number.isFinite(n) && n > 0 ? n : 1024;
  } catch {
    return 1024;
  }
}

/** Fail-safe listener for exceptions that escape everything: recorded, so the test can assert none happened. */
export function catchEscapes(t: Test): Error[] {
  const escaped: Error[] = [];
  const onErr = (err: Error): void => {
    escaped.push(err);
  };
  process.on('uncaughtException', onErr);
  process.on('unhandledRejection', onErr);
  t.teardown(() => {
    process.off('uncaughtException', onErr);
    process.off('unhandledRejection', onErr);
  });
  return escaped;
}

/**
 * A decompression bomb: N copies of one sync-flushed DEFLATE segment of 4 MiB
 * of zeros (~4 KiB each; it refers only to itself), a valid permessage-deflate
 * payload that inflates to N * 4 MiB.
 */
export function deflateBomb(copies: number): Buffer {
  const segment = zlib.deflateRawSync(Buffer.alloc(4 * MiB), { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const payload = Buffer.concat(Array.from({ length: copies }, () => segment));
  return payload.subarray(0, payload.length - 4);
}

/** Sample memory every few ms until stopped; reports the largest rss/heap growth over the start. */
export function memoryWatch(): { stop(): { rss: number; heap: number; external: number } } {
  const start = process.memoryUsage();
  let rss = 0;
  let heap = 0;
  let external = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss - start.rss);
    heap = Math.max(heap, m.heapUsed - start.heapUsed);
    external = Math.max(external, m.external + m.arrayBuffers - start.external - start.arrayBuffers);
  };
  const timer = setInterval(sample, 10);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { rss, heap, external };
    },
  };
}

export const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;
