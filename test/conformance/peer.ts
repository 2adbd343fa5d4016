/**
 * The scripted raw-socket peer of the conformance suite. As a client it dials the
 * library's server; as a server it answers the library's client. After the upgrade it
 * writes exact bytes with chosen chunking and delays, records every byte that comes
 * back, parses the frames (checking that the library masked iff it is the client) and
 * reports the close frame and whether the TCP connection was closed by the other side.
 */
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { encodeFrame, FrameDecoder, OP, type Frame, type FrameSpec } from './frames.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** What came back, reassembled: messages are joined fragments (payload still compressed if rsv1). */
export type PeerEvent =
  | { kind: 'message'; binary: boolean; data: Buffer; compressed: boolean; frames: number }
  | { kind: 'ping' | 'pong'; data: Buffer }
  | { kind: 'close'; code: number; reason: Buffer; payload: Buffer };

export interface SendOptions {
  /** Bytes per write (default: everything in one write). */
  chunk?: number;
  /** Pause between writes in ms (0 = next turn of the event loop). */
  delayMs?: number;
}

export class Peer {
  /** Every byte received after the handshake head, in order. */
  readonly received: Buffer[] = [];
  readonly frames: Frame[] = [];
  readonly events: PeerEvent[] = [];
  /** Frames from the library that break RFC 6455 framing rules regardless of the case. */
  readonly violations: string[] = [];
  /** The other side closed (FIN or reset). */
  remoteClosed = false;
  /** Our write failed because the other side was gone. */
  writeFailed = false;
  private readonly decoder = new FrameDecoder();
  private readonly waiters = new Set<() => void>();
  private partial: { binary: boolean; parts: Buffer[]; compressed: boolean; frames: number } | null = null;

  constructor(readonly socket: net.Socket, readonly role: 'client' | 'server', head: Buffer) {
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('end', () => this.onGone());
    socket.on('close', () => this.onGone());
    socket.on('error', () => { this.writeFailed = true; this.onGone(); });
    if (head.length) this.onData(head);
  }

  /** Encodes frames the way this role must (a client masks) with optional overrides. */
  encode(specs: FrameSpec | FrameSpec[]): Buffer {
    const list = Array.isArray(specs) ? specs : [specs];
    return Buffer.concat(list.map((s) => encodeFrame(s, this.role === 'client')));
  }

  /** Writes bytes (or frames) split into `chunk`-sized writes with `delayMs` between them. */
  async send(what: Buffer | FrameSpec | FrameSpec[], opts: SendOptions = {}): Promise<void> {
    const bytes = Buffer.isBuffer(what) ? what : this.encode(what);
    const size = opts.chunk && opts.chunk > 0 ? opts.chunk : bytes.length || 1;
    for (let off = 0; off < bytes.length; off += size) {
      if (this.writeFailed || this.socket.destroyed) { this.writeFailed = true; return; }
      await this.write(bytes.subarray(off, off + size));
      if (off + size < bytes.length) await pause(opts.delayMs ?? 0);
    }
  }

  private write(b: Buffer): Promise<void> {
    if (this.socket.destroyed) {
      this.writeFailed = true;
      return Promise.resolve();
    }
    // The write callback fires once the bytes are handed to the kernel (or with an error);
    // 'close' covers a socket destroyed with the write still queued.
    return new Promise((resolve) => {
      const done = () => { this.socket.off('close', done); resolve(); };
      this.socket.once('close', done);
      this.socket.write(b, (err) => {
        if (err) this.writeFailed = true;
        done();
      });
    });
  }

  /** Resolves once `pred` holds, re-checked on every received byte and on disconnect. */
  waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pred()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.describe()}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** The close frame received from the library, if any. */
  get close(): Extract<PeerEvent, { kind: 'close' }> | undefined {
    return this.events.find((e): e is Extract<PeerEvent, { kind: 'close' }> => e.kind === 'close');
  }

  waitClose(timeoutMs = 5000): Promise<void> {
    return this.waitFor(() => this.close !== undefined, timeoutMs, 'a close frame');
  }

  waitRemoteClosed(timeoutMs = 5000): Promise<void> {
    return this.waitFor(() => this.remoteClosed, timeoutMs, 'the TCP connection to be closed');
  }

  /** Waits for `n` events (messages, pings, pongs, close) in total. */
  waitEvents(n: number, timeoutMs = 5000): Promise<void> {
    return this.waitFor(() => this.events.length >= n || this.remoteClosed, timeoutMs, `${n} events`);
  }

  get bytesReceived(): number {
    return this.received.reduce((n, b) => n + b.length, 0);
  }

  /** A short summary of what arrived, for failure messages. */
  describe(): string {
    const ev = this.events.map((e) => {
      if (e.kind === 'close') return `close(${e.code}${e.reason.length ? ` "${e.reason.toString()}"` : ''})`;
      if (e.kind === 'message') return `${e.binary ? 'binary' : 'text'}(${e.data.length} B${e.compressed ? ', compressed' : ''})`;
      return `${e.kind}(${e.data.length} B)`;
    });
    return `[${ev.join(', ')}]${this.remoteClosed ? ' + TCP closed' : ''}` +
      (this.violations.length ? ` violations: ${this.violations.join('; ')}` : '');
  }

  end(): void { this.socket.end(); }
  destroy(): void { this.socket.destroy(); }

  private onGone(): void {
    this.remoteClosed = true;
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private onData(chunk: Buffer): void {
    this.received.push(chunk);
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      this.violations.push(String(e));
      frames = [];
    }
    for (const f of frames) this.onFrame(f);
    this.notify();
  }

  private onFrame(f: Frame): void {
    this.frames.push(f);
    const mustMask = this.role === 'server';
    if (f.masked !== mustMask) this.violations.push(`frame ${f.opcode} ${f.masked ? 'masked' : 'unmasked'} from a ${mustMask ? 'client' : 'server'}`);
    if (this.close) { this.violations.push(`frame opcode ${f.opcode} after the close frame`); return; }
    if (f.opcode >= 8) {
      if (!f.fin || f.payload.length > 125) this.violations.push(`invalid control frame ${f.opcode}`);
      if (f.rsv) this.violations.push(`rsv ${f.rsv} on control frame`);
      if (f.opcode === OP.CLOSE) {
        const p = f.payload;
        this.events.push({
          kind: 'close',
          code: p.length >= 2 ? p.readUInt16BE(0) : 1005,
          reason: p.subarray(2),
          payload: p,
        });
        if (p.length === 1) this.violations.push('close payload of 1 byte');
      } else if (f.opcode === OP.PING || f.opcode === OP.PONG) {
        this.events.push({ kind: f.opcode === OP.PING ? 'ping' : 'pong', data: f.payload });
      } else {
        this.violations.push(`reserved control opcode ${f.opcode}`);
      }
      return;
    }
    if (f.opcode === OP.CONT) {
      if (!this.partial) { this.violations.push('continuation without a message'); return; }
      if (f.rsv) this.violations.push(`rsv ${f.rsv} on a continuation frame`);
      this.partial.parts.push(f.payload);
      this.partial.frames++;
    } else if (f.opcode === OP.TEXT || f.opcode === OP.BINARY) {
      if (this.partial) this.violations.push('new message inside a fragmented one');
      if (f.rsv & 3) this.violations.push(`rsv ${f.rsv} on a data frame`);
      this.partial = { binary: f.opcode === OP.BINARY, parts: [f.payload], compressed: (f.rsv & 4) !== 0, frames: 1 };
    } else {
      this.violations.push(`reserved data opcode ${f.opcode}`);
      return;
    }
    if (f.fin) {
      const m = this.partial!;
      this.partial = null;
      this.events.push({ kind: 'message', binary: m.binary, data: Buffer.concat(m.parts), compressed: m.compressed, frames: m.frames });
    }
  }
}

export function pause(ms: number): Promise<void> {
  return new Promise((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));
}

interface Head { head: string; rest: Buffer }

/** Reads an HTTP head (up to CRLFCRLF) from a socket. */
function readHead(socket: net.Socket, timeoutMs: number): Promise<Head> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error('timed out reading the HTTP head')), timeoutMs);
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const i = buf.indexOf('\r\n\r\n');
      if (i >= 0) done(null, { head: buf.subarray(0, i).toString('latin1'), rest: buf.subarray(i + 4) });
    };
    const onEnd = () => done(new Error(`connection closed during the HTTP head: ${JSON.stringify(buf.toString('latin1'))}`));
    function done(err: Error | null, h?: Head) {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
      // Stop the flow so no byte after the head is lost before Peer attaches.
      socket.pause();
      if (err) reject(err); else resolve(h!);
    }
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onEnd);
  });
}

function parseHeaders(lines: string[]): Record<string, string> {
  const h: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    h[k] = k in h ? `${h[k]}, ${v}` : v;
  }
  return h;
}

export interface ClientHandshake {
  status: number;
  headers: Record<string, string>;
  /** Present when the server answered 101 with the right accept value. */
  peer?: Peer;
  socket: net.Socket;
}

export interface DialOptions {
  path?: string;
  /** Sec-WebSocket-Extensions offer, omitted when undefined. */
  extensions?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Dials 127.0.0.1:port as a raw client and performs the opening handshake byte by byte. */
export async function dial(port: number, opts: DialOptions = {}): Promise<ClientHandshake> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const key = randomBytes(16).toString('base64');
  const lines = [
    `GET ${opts.path ?? '/'} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (opts.extensions !== undefined) lines.push(`Sec-WebSocket-Extensions: ${opts.extensions}`);
  for (const [k, v] of Object.entries(opts.headers ?? {})) lines.push(`${k}: ${v}`);
  socket.write(lines.join('\r\n') + '\r\n\r\n');
  const { head, rest } = await readHead(socket, opts.timeoutMs ?? 5000);
  const [statusLine, ...headerLines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers = parseHeaders(headerLines);
  const ok = status === 101 && headers['sec-websocket-accept'] === acceptFor(key);
  const peer = ok ? new Peer(socket, 'client', rest) : undefined;
  socket.resume();
  return { status, headers, peer, socket };
}

export interface UpgradeRequestSeen {
  requestLine: string;
  headers: Record<string, string>;
}

/**
 * How the scripted server answers one upgrade: extra 101 headers (and bytes written in the
 * same write as the 101 head, e.g. a first frame), or a raw response.
 */
export type Answer = { headers?: Record<string, string>; after?: Buffer } | { raw: string };

/**
 * A raw TCP server that answers the library client's upgrade (computing the accept
 * value) and hands each accepted connection to the test as a server-role Peer.
 */
export class ScriptedServer {
  private readonly server = net.createServer();
  private readonly pending: Array<(c: { peer: Peer; request: UpgradeRequestSeen }) => void> = [];
  private readonly ready: Array<{ peer: Peer; request: UpgradeRequestSeen }> = [];
  readonly errors: Error[] = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly answer: (req: UpgradeRequestSeen) => Answer) {
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
      this.onConnection(s).catch((e: Error) => { this.errors.push(e); s.destroy(); });
    });
  }

  static async listen(answer: (req: UpgradeRequestSeen) => Answer = () => ({})): Promise<ScriptedServer> {
    const s = new ScriptedServer(answer);
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    return s;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  /** The next upgraded connection. */
  accept(timeoutMs = 5000): Promise<{ peer: Peer; request: UpgradeRequestSeen }> {
    const r = this.ready.shift();
    if (r) return Promise.resolve(r);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no client connected')), timeoutMs);
      this.pending.push((c) => { clearTimeout(timer); resolve(c); });
    });
  }

  /** Stops listening and destroys every connection still open, so a test can never hang here. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async onConnection(socket: net.Socket): Promise<void> {
    const { head, rest } = await readHead(socket, 5000);
    const [requestLine, ...headerLines] = head.split('\r\n');
    const request = { requestLine, headers: parseHeaders(headerLines) };
    const answer = this.answer(request);
    if ('raw' in answer) {
      socket.end(answer.raw);
      return;
    }
    const key = request.headers['sec-websocket-key'] ?? '';
    const lines = [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${acceptFor(key)}`,
      ...Object.entries(answer.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    ];
    socket.write(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), answer.after ?? Buffer.alloc(0)]));
    const peer = new Peer(socket, 'server', rest);
    socket.resume();
    const c = { peer, request };
    const w = this.pending.shift();
    if (w) w(c); else this.ready.push(c);
  }
}
