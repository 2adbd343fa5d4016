/**
 * Child process: the one load generator used against every server. Raw `net` sockets, pre-built
 * masked frames, N messages in flight per connection, every echoed byte checked. Reports its own
 * CPU use so it is visibly not the bottleneck.
 *
 * Commands (IPC): echo (throughput/latency), idle + idleClose (memory per connection, handshake
 * rate while filling), handshakes (connect + upgrade + one echo + reset, in a loop: new connections
 * per second), churn (soak: connect, exchange, close or abort, repeat).
 */
import net from 'node:net';
import zlib from 'node:zlib';
import { performance } from 'node:perf_hooks';
import {
  BENCH_MASK, OP_BINARY, OP_TEXT, buildFrame, closeFrame, handshakeCycleBytes, jsonish, makePayload, repeatFrame, upgradeRequest,
} from './frames.js';
import { measureWindow, serveParent, sleep } from './util.js';

const HOST = '127.0.0.1';
const SYNC_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

// ---------------------------------------------------------------- connecting

interface Opened { sock: net.Socket; rest: Buffer; response: string }

/** Connect and (mode ws) do the opening handshake; resolves with bytes received after the head. */
function open(port: number, mode: 'ws' | 'raw', extensions?: string, localAddress?: string, timeoutMs = 20_000): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: HOST, localAddress, noDelay: true });
    let done = false;
    const fail = (e: Error) => { if (!done) { done = true; clearTimeout(t); sock.destroy(); reject(e); } };
    const t = setTimeout(() => fail(new Error('connect/handshake timeout')), timeoutMs);
    sock.once('error', fail);
    sock.once('close', () => fail(new Error('closed during handshake')));
    sock.once('connect', () => {
      if (mode === 'raw') { done = true; clearTimeout(t); sock.removeAllListeners(); resolve({ sock, rest: Buffer.alloc(0), response: '' }); return; }
      sock.write(upgradeRequest(HOST, port, '/', extensions));
      let acc: Buffer = Buffer.alloc(0);
      const onData = (c: Buffer) => {
        acc = acc.length ? Buffer.concat([acc, c]) : c;
        const end = acc.indexOf('\r\n\r\n');
        if (end < 0) { if (acc.length > 16384) fail(new Error('handshake response too long')); return; }
        const head = acc.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101')) { fail(new Error(`handshake refused: ${head.split('\r\n')[0]}`)); return; }
        done = true; clearTimeout(t);
        sock.removeAllListeners();
        resolve({ sock, rest: acc.subarray(end + 4), response: head });
      };
      sock.on('data', onData);
    });
  });
}

/** Open `n` connections with at most `parallel` handshakes at once. */
async function openMany(port: number, n: number, parallel: number, mode: 'ws' | 'raw', extensions?: string): Promise<Opened[]> {
  const out: Opened[] = new Array(n);
  let next = 0;
  let firstErr: Error | null = null;
  const worker = async () => {
    while (next < n && !firstErr) {
      const i = next++;
      // Past ~25k connections per source address the ephemeral ports run out: use 127.0.0.x.
      const local = n > 20000 ? `127.0.0.${1 + Math.floor(i / 20000)}` : undefined;
      try { out[i] = await open(port, mode, extensions, local); } catch (e) { firstErr ??= e as Error; }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  if (firstErr) { for (const o of out) o?.sock.destroy(); throw firstErr; }
  return out;
}

/**
 * Tear down with a TCP RST: a FIN from this side would leave a TIME_WAIT entry holding an
 * ephemeral port for 60 s, and tens of thousands of them exhaust the port range between runs.
 */
function reset(sock: net.Socket): void {
  if (typeof (sock as any).resetAndDestroy === 'function' && !sock.destroyed && !sock.connecting) (sock as any).resetAndDestroy();
  else sock.destroy();
}

// ---------------------------------------------------------------- a small frame reader

interface Frame { fin: boolean; rsv1: boolean; opcode: number; payload: Buffer }

/** Incremental reader of unmasked server frames (deflate and churn modes; echo mode compares bytes). */
class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer, onFrame: (f: Frame) => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      let len = b[1]! & 0x7f; let o = 2;
      if (b[1]! & 0x80) throw new Error('server frame is masked');
      if (len === 126) { if (b.length < 4) return; len = b.readUInt16BE(2); o = 4; }
      else if (len === 127) { if (b.length < 10) return; len = b.readUInt32BE(2) * 2 ** 32 + b.readUInt32BE(6); o = 10; }
      if (b.length < o + len) return;
      const f = { fin: (b[0]! & 0x80) !== 0, rsv1: (b[0]! & 0x40) !== 0, opcode: b[0]! & 0x0f, payload: b.subarray(o, o + len) };
      this.buf = b.subarray(o + len);
      onFrame(f);
    }
  }
}

// ---------------------------------------------------------------- echo: throughput and latency

interface EchoArgs {
  port: number; mode: 'ws' | 'raw'; size: number; text: boolean; conns: number; inflight: number;
  warmupMs: number; durationMs: number; deflate?: boolean; payloadKind?: 'random' | 'json';
  /** With deflate: 'takeover' offers what browsers offer (contexts kept both ways; each connection
   * inflates replies through its own zlib stream); 'none' asks for server_no_context_takeover. */
  context?: 'takeover' | 'none';
}

const RTT_CAP = 1 << 20;

async function echo(a: EchoArgs) {
  const payload = a.payloadKind === 'json' ? jsonish(a.size) : makePayload(a.size, a.text);
  const opcode = a.text ? OP_TEXT : OP_BINARY;
  let frame: Buffer;
  if (a.deflate) {
    const c = zlib.deflateRawSync(payload, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    // RFC 7692 7.2.1: drop the trailing 00 00 ff ff; messages under the servers' threshold go plain.
    frame = a.size >= 1024 ? buildFrame(c.subarray(0, c.length - 4), opcode, BENCH_MASK, true, true) : buildFrame(payload, opcode, BENCH_MASK);
  } else {
    frame = buildFrame(payload, opcode, BENCH_MASK);
  }
  const batch = repeatFrame(frame, a.inflight);
  // What each echo must look like, byte for byte: the server's unmasked frame (raw: our own bytes).
  const reply = a.mode === 'raw' ? frame : buildFrame(payload, opcode, null);
  const cycle = repeatFrame(reply, Math.max(1, Math.floor(65536 / reply.length)));
  const cycleLen = cycle.length; const replyLen = reply.length;

  const takeover = a.context !== 'none';
  const ext = a.deflate ? (takeover ? 'permessage-deflate; client_max_window_bits' : 'permessage-deflate; server_no_context_takeover') : undefined;
  const opened = await openMany(a.port, a.conns, 64, a.mode, ext);
  if (a.deflate) {
    for (const o of opened) if (!/permessage-deflate/i.test(o.response)) { opened.forEach((x) => x.sock.destroy()); throw new Error('server did not accept permessage-deflate'); }
  }

  let completed = 0; let counting = false; let running = true;
  let rttN = 0; const rtt = new Float64Array(RTT_CAP);
  let errors = 0; let firstError = '';
  let outstandingTotal = 0;
  let drainResolve: (() => void) | null = null;

  const recordRtt = (ms: number) => {
    if (!counting) return;
    if (rttN < RTT_CAP) rtt[rttN] = ms; else rtt[Math.floor(Math.random() * RTT_CAP)] = ms;
    rttN++;
  };
  const fail = (sock: net.Socket, msg: string) => {
    errors++; if (!firstError) firstError = msg;
    sock.destroy();
  };

  for (const o of opened) {
    const sock = o.sock;
    const sent = new Float64Array(a.inflight); let head = 0; let tail = 0; let outstanding = 0;
    let pos = 0; let dead = false;
    const send = (k: number) => {
      if (k <= 0) return;
      const now = performance.now();
      for (let i = 0; i < k; i++) { sent[tail] = now; tail = tail + 1 === a.inflight ? 0 : tail + 1; }
      outstanding += k; outstandingTotal += k;
      sock.write(k === a.inflight ? batch : batch.subarray(0, k * frame.length));
    };
    const complete = (k: number, now: number) => {
      for (let i = 0; i < k; i++) { recordRtt(now - sent[head]!); head = head + 1 === a.inflight ? 0 : head + 1; }
      outstanding -= k; outstandingTotal -= k;
      if (counting) completed += k;
      if (running) send(k);
      else if (outstandingTotal === 0 && drainResolve) drainResolve();
    };
    const onPlain = (chunk: Buffer) => {
      if (dead) return;
      const now = performance.now();
      let off = 0; let k = 0;
      while (off < chunk.length) {
        const n = Math.min(chunk.length - off, cycleLen - pos);
        if (chunk.compare(cycle, pos, pos + n, off, off + n) !== 0) {
          dead = true; outstandingTotal -= outstanding; outstanding = 0;
          fail(sock, `echo mismatch near byte ${pos % replyLen} of a ${replyLen}-byte reply`);
          return;
        }
        k += Math.floor((pos + n) / replyLen) - Math.floor(pos / replyLen);
        pos += n; off += n;
        if (pos === cycleLen) pos = 0;
      }
      if (k) complete(k, now);
    };
    const reader = new FrameReader();
    let parts: Buffer[] = []; let partCompressed = false;
    // Context takeover: replies depend on earlier ones, so they go through one inflate stream in order.
    let inflater: zlib.InflateRaw | null = null; let inflated: Buffer[] = [];
    if (a.deflate && takeover) {
      inflater = zlib.createInflateRaw();
      inflater.on('data', (c: Buffer) => inflated.push(c));
      inflater.on('error', (e) => { if (!dead) { dead = true; outstandingTotal -= outstanding; outstanding = 0; fail(sock, `inflate: ${e.message}`); } });
      sock.on('close', () => inflater!.close());
    }
    const inflateAsync = (msg: Buffer) => {
      inflater!.write(Buffer.concat([msg, SYNC_TAIL]));
      inflater!.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        if (dead) return;
        const out = inflated.length === 1 ? inflated[0]! : Buffer.concat(inflated);
        inflated = [];
        if (!out.equals(payload)) { dead = true; outstandingTotal -= outstanding; outstanding = 0; fail(sock, 'echo mismatch (inflated)'); return; }
        complete(1, performance.now());
      });
    };
    const onDeflate = (chunk: Buffer) => {
      if (dead) return;
      const now = performance.now();
      let k = 0;
      try {
        reader.push(chunk, (f) => {
          if (f.opcode !== 0) partCompressed = f.rsv1;
          parts.push(f.payload);
          if (!f.fin) return;
          let msg = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
          parts = [];
          if (partCompressed && inflater) { inflateAsync(msg); return; }
          if (partCompressed) msg = zlib.inflateRawSync(Buffer.concat([msg, SYNC_TAIL]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
          if (!msg.equals(payload)) throw new Error('echo mismatch (inflated)');
          k++;
        });
      } catch (e) {
        dead = true; outstandingTotal -= outstanding; outstanding = 0;
        fail(sock, (e as Error).message); return;
      }
      if (k) complete(k, now);
    };
    const onData = a.deflate ? onDeflate : onPlain;
    sock.on('data', onData);
    sock.on('error', (e) => { if (running && !dead) { errors++; firstError ||= e.message; } });
    sock.on('close', () => {
      if (!dead && outstanding > 0) { dead = true; outstandingTotal -= outstanding; outstanding = 0; if (running) { errors++; firstError ||= 'server closed the connection'; } }
      if (!running && outstandingTotal === 0 && drainResolve) drainResolve();
    });
    if (o.rest.length) onData(o.rest);
    send(a.inflight);
  }

  const { seconds, cpuPct } = await measureWindow(a.warmupMs, a.durationMs, (on) => { counting = on; });
  const msgs = completed;
  running = false;
  if (outstandingTotal > 0) {
    await Promise.race([new Promise<void>((r) => { drainResolve = r; }), sleep(15_000)]);
  }
  for (const o of opened) reset(o.sock);
  const lat = rtt.subarray(0, Math.min(rttN, RTT_CAP)).sort();
  const q = (p: number) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! : NaN;
  return {
    msgs, seconds, msgsPerSec: msgs / seconds, mbPerSec: (msgs * a.size) / seconds / 1e6,
    p50: q(0.5), p99: q(0.99), cpuPct,
    errors, firstError, undrained: outstandingTotal,
  };
}

// ---------------------------------------------------------------- idle connections

let idleConns: Opened[] = [];

async function idle(a: { port: number; count: number; parallel?: number; mode?: 'ws' | 'raw'; extensions?: string; exchange?: boolean }) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const conns = await openMany(a.port, a.count, a.parallel ?? 128, a.mode ?? 'ws', a.extensions);
  if (a.exchange) await exchangeOne(conns);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  for (const c of conns) { c.sock.on('error', () => {}); c.sock.resume(); }
  idleConns.push(...conns);
  return { opened: conns.length, seconds, perSec: conns.length / seconds, cpuPct: ((cpu.user + cpu.system) / 1e6 / seconds) * 100 };
}

/**
 * Each connection sends one compressed 4 KiB JSON-like message and waits for any reply frame: what a
 * connection costs once its compression contexts exist (ws and others create them lazily).
 */
async function exchangeOne(conns: Opened[]): Promise<void> {
  const p = jsonish(4096);
  const c = zlib.deflateRawSync(p, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const frame = buildFrame(c.subarray(0, c.length - 4), OP_TEXT, BENCH_MASK, true, true);
  const batch = 256;
  for (let i = 0; i < conns.length; i += batch) {
    await Promise.all(conns.slice(i, i + batch).map((o) => new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error('no reply to the compressed message within 10 s')), 10_000);
      o.sock.once('data', () => { clearTimeout(t); res(); });
      o.sock.write(frame);
    })));
  }
}

/** Open connections one by one until one fails or `max` is reached (capacity run). */
/** Connections per server port in the capacity run (it listens on ceil(max / PER_PORT) ports). */
export const PER_PORT = 5000;

async function fill(a: { ports: number[]; max: number; parallel?: number; timeLimitMs: number; mode?: 'ws' | 'raw' }) {
  const t0 = performance.now();
  let next = 0; let failed = '';
  const deadline = t0 + a.timeLimitMs;
  const worker = async () => {
    while (next < a.max && !failed && performance.now() < deadline) {
      const i = next++;
      // A connect() picks its ephemeral port per destination, and the kernel's search for a free
      // one slows down as a destination's ports fill up: spread over one server port per PER_PORT.
      const port = a.ports[Math.floor(i / PER_PORT)];
      if (port === undefined) { failed ||= `out of server ports at connection ${i}`; break; }
      try {
        const c = await open(port, a.mode ?? 'ws', undefined, undefined, 10_000);
        c.sock.on('error', () => {}); c.sock.resume();
        idleConns.push(c);
      } catch (e) { failed ||= `${(e as Error).message} (at connection ${i})`; }
    }
  };
  await Promise.all(Array.from({ length: a.parallel ?? 128 }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return { opened: idleConns.length, seconds, perSec: idleConns.length / seconds, stoppedBy: failed || (next >= a.max ? 'max reached' : 'time limit') };
}

async function idleClose() {
  const n = idleConns.length;
  for (const c of idleConns) reset(c.sock);
  idleConns = [];
  await sleep(200);
  return { closed: n };
}

// ---------------------------------------------------------------- handshake rate

interface HandshakeArgs { port: number; parallel: number; warmupMs: number; durationMs: number; size?: number; mode?: 'ws' | 'raw' }

/**
 * New connections per second: `parallel` loops, each connects, upgrades, sends one masked text
 * message after the 101, waits for its exact echo, then resets the TCP connection (no TIME_WAIT)
 * and starts over. Counts completed cycles in the window; every reply is checked byte for byte.
 * Mode raw (a TCP echo server, the ceiling of this generator): connect, send the frame's bytes, read them back.
 */
async function handshakes(a: HandshakeArgs) {
  const raw = a.mode === 'raw';
  const { request, frame, reply } = handshakeCycleBytes(HOST, a.port, a.size ?? 16, raw);
  let completed = 0; let counting = false; let running = true;
  let errors = 0; let firstError = '';
  let live = 0; let allDone: (() => void) | null = null;
  const cycle = (): void => {
    if (!running) { if (--live === 0 && allDone) allDone(); return; }
    const sock = net.connect({ port: a.port, host: HOST, noDelay: true });
    let acc: Buffer | null = null; let upgraded = raw; let finished = false;
    const end = (err: string | null) => {
      if (finished) return;
      finished = true; clearTimeout(t);
      if (err !== null) { errors++; firstError ||= err; } else if (counting) completed++;
      reset(sock);
      // Next cycle from a fresh stack (a failing server must not recurse us into the ground).
      setImmediate(cycle);
    };
    const t = setTimeout(() => end('connect/handshake/echo timeout'), 10_000);
    sock.on('error', (e) => end(e.message));
    sock.on('close', () => end('closed before the echo'));
    sock.on('connect', () => sock.write(raw ? frame : request));
    sock.on('data', (c: Buffer) => {
      acc = acc === null ? c : Buffer.concat([acc, c]);
      if (!upgraded) {
        const e = acc.indexOf('\r\n\r\n');
        if (e < 0) { if (acc.length > 16384) end('handshake response too long'); return; }
        if (acc.toString('latin1', 0, 12) !== 'HTTP/1.1 101') { end(`handshake refused: ${acc.toString('latin1', 0, acc.indexOf('\r\n'))}`); return; }
        upgraded = true;
        acc = acc.subarray(e + 4);
        sock.write(frame);
      }
      if (acc.length < reply.length) return;
      end(acc.length === reply.length && acc.equals(reply) ? null : 'echo mismatch after the handshake');
    });
  };
  for (let i = 0; i < a.parallel; i++) { live++; cycle(); }
  const { seconds, cpuPct } = await measureWindow(a.warmupMs, a.durationMs, (on) => { counting = on; });
  running = false;
  await Promise.race([new Promise<void>((r) => { allDone = r; }), sleep(15_000)]);
  return { completed, seconds, perSec: completed / seconds, cpuPct, errors, firstError };
}

// ---------------------------------------------------------------- churn (soak)

interface ChurnArgs { port: number; durationMs: number; workers: number; messages: number; seed?: number }

async function churn(a: ChurnArgs) {
  const deadline = performance.now() + a.durationMs;
  const counts = { connections: 0, messages: 0, clean: 0, abrupt: 0, midFrame: 0, halfClose: 0, errors: 0, firstError: '' };
  let x = (a.seed ?? 12345) >>> 0 || 1;
  const rnd = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32; };
  const sizes = [16, 200, 1024, 20000, 70000];
  const payloads = sizes.map((s, i) => ({ p: makePayload(s, i % 2 === 0), text: i % 2 === 0 }));

  const one = async () => {
    const o = await open(a.port, 'ws');
    counts.connections++;
    const sock = o.sock;
    const reader = new FrameReader();
    let waiting: ((f: Frame) => void) | null = null;
    const queue: Frame[] = [];
    let closed = false;
    sock.on('error', () => {});
    sock.on('close', () => { closed = true; });
    const onData = (c: Buffer) => reader.push(c, (f) => { if (waiting) { const w = waiting; waiting = null; w(f); } else queue.push(f); });
    sock.on('data', onData);
    if (o.rest.length) onData(o.rest);
    const nextFrame = () => new Promise<Frame>((res, rej) => {
      if (queue.length) { res(queue.shift()!); return; }
      const t = setTimeout(() => rej(new Error('no echo within 10 s')), 10_000);
      waiting = (f) => { clearTimeout(t); res(f); };
    });
    const n = 1 + Math.floor(rnd() * a.messages);
    for (let i = 0; i < n; i++) {
      const { p, text } = payloads[Math.floor(rnd() * payloads.length)]!;
      sock.write(buildFrame(p, text ? OP_TEXT : OP_BINARY, BENCH_MASK));
      const f = await nextFrame();
      if (!f.fin || f.opcode !== (text ? OP_TEXT : OP_BINARY) || !f.payload.equals(p)) throw new Error('echo mismatch');
      counts.messages++;
    }
    const r = rnd();
    if (r < 0.6) {
      sock.write(closeFrame(1000));
      const f = await nextFrame();
      if (f.opcode !== 0x8) throw new Error(`expected close frame, got opcode ${f.opcode}`);
      // The server closes TCP after the close handshake (RFC 6455 7.1.1); wait for it, bounded.
      await Promise.race([new Promise<void>((res) => { if (closed) res(); else sock.once('close', () => res()); }), sleep(5000)]);
      if (!closed) { sock.destroy(); throw new Error('server did not close TCP after the close handshake'); }
      counts.clean++;
    } else if (r < 0.8) {
      reset(sock); counts.abrupt++;
    } else if (r < 0.9) {
      const f = buildFrame(payloads[3]!.p, OP_BINARY, BENCH_MASK);
      sock.write(f.subarray(0, f.length >> 1), () => reset(sock)); counts.midFrame++;
    } else {
      sock.end(); counts.halfClose++;
      await Promise.race([new Promise<void>((res) => { if (closed) res(); else sock.once('close', () => res()); }), sleep(5000)]);
      sock.destroy();
    }
  };
  const worker = async () => {
    while (performance.now() < deadline) {
      try { await one(); } catch (e) { counts.errors++; counts.firstError ||= (e as Error).message; await sleep(10); }
    }
  };
  await Promise.all(Array.from({ length: a.workers }, worker));
  return counts;
}

if (process.send) {
  serveParent({ echo, idle, fill, idleClose, churn, handshakes, cpu: () => process.cpuUsage() });
}
