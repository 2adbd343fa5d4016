/**
 * The one raw-socket peer of the tests: it sends exact bytes (whole, or in chunks with
 * pauses), records every byte that comes back, splits off the HTTP head, decodes the
 * frames after a 101, and can stop reading, half-close or reset. As a client it dials the
 * library's server (plain or TLS); as a server it is handed a socket by a scripted server
 * (see raw-server.ts).
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { encodeFrames, FrameDecoder, OP, type Frame, type FrameSpec } from './frames.js';
import { upgradeRequest } from './http.js';

export type Role = 'client' | 'server';

export interface ConnectOptions {
  /** Speak TLS, trusting this CA (for a server on `selfSignedCert()`); the name checked is `localhost`. */
  tlsCa?: Buffer;
}

export interface UpgradeOptions extends ConnectOptions {
  path?: string;
  /** Request headers, as for `upgradeRequest()`. */
  headers?: Record<string, string | null>;
  /** Offer permessage-deflate. */
  deflate?: boolean;
  /** Bytes sent in the same write as the request (pipelined before the 101). */
  early?: Buffer;
  /** false: stop reading once the 101 head is in (a peer that never reads, for backpressure tests). */
  read?: boolean;
}

export interface SendOptions {
  /** Bytes per write (default: everything in one write). */
  chunk?: number;
  /** Pause between writes in ms (0 = the next turn of the event loop). */
  delayMs?: number;
}

export function pause(ms: number): Promise<void> {
  return new Promise((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));
}

export class RawPeer {
  /** The HTTP head (through the blank line) once it is complete; '' before, and always for a server-role peer. */
  head = '';
  /** Every frame decoded after a 101 head (or from the start for a server-role peer). */
  readonly frames: Frame[] = [];
  /** What the frame decoder could not make sense of. */
  readonly decodeErrors: string[] = [];
  /** The socket emitted 'close'. */
  closed = false;
  /** The other side is gone: FIN, reset or 'close'. */
  remoteClosed = false;
  /** A write failed, or was skipped because the socket was already destroyed. */
  writeFailed = false;
  error: Error | null = null;
  private beforeHead: Buffer[] | null;
  private readonly chunks: Buffer[] = [];
  private joined: Buffer | null = Buffer.alloc(0);
  private decoder: FrameDecoder | null = null;
  private readonly waiters = new Set<() => void>();

  /**
   * Wrap a connected socket. A client-role peer expects an HTTP head first; a server-role
   * peer gets the bytes that followed the request head (already read) as `initial`.
   */
  constructor(readonly socket: net.Socket, readonly role: Role = 'client', initial: Buffer = Buffer.alloc(0)) {
    this.beforeHead = role === 'client' ? [] : null;
    if (role === 'server') this.decoder = new FrameDecoder();
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('end', () => this.onGone());
    socket.on('error', (err) => {
      this.error = err;
      this.writeFailed = true;
      this.onGone();
    });
    socket.on('close', () => {
      this.closed = true;
      this.onGone();
    });
    if (initial.length) this.onData(initial);
  }

  /** Open a TCP (or TLS) connection to 127.0.0.1:`port`; nothing is sent. */
  static async connect(port: number, opts: ConnectOptions = {}): Promise<RawPeer> {
    const socket = opts.tlsCa
      ? tls.connect({ host: '127.0.0.1', port, ca: opts.tlsCa, servername: 'localhost' })
      : net.connect(port, '127.0.0.1');
    const peer = new RawPeer(socket);
    await new Promise<void>((resolve, reject) => {
      const event = opts.tlsCa ? 'secureConnect' : 'connect';
      const onClose = (): void => reject(peer.error ?? new Error('closed before connecting'));
      socket.once('close', onClose);
      socket.once(event, () => {
        socket.off('close', onClose);
        resolve();
      });
    });
    return peer;
  }

  /** Connect, send a valid upgrade request (the RFC example key) and wait for a 101; throws on anything else. */
  static async upgrade(port: number, opts: UpgradeOptions = {}): Promise<RawPeer> {
    const peer = await RawPeer.connect(port, opts);
    const headers = { ...(opts.deflate ? { 'Sec-WebSocket-Extensions': 'permessage-deflate' } : {}), ...opts.headers };
    const request = Buffer.from(upgradeRequest({ path: opts.path, headers }), 'latin1');
    void peer.write(opts.early ? Buffer.concat([request, opts.early]) : request);
    const head = await peer.readHead();
    if (!head) throw new Error(`closed before the 101: ${peer.all().toString('latin1')}`);
    if (!head.startsWith('HTTP/1.1 101 ')) throw new Error(`upgrade refused: ${head}`);
    if (opts.read === false) peer.stopReading();
    return peer;
  }

  /** Bytes received after the HTTP head (all bytes for a server-role peer). */
  get received(): Buffer {
    if (this.joined === null) this.joined = Buffer.concat(this.chunks);
    return this.joined;
  }

  get bytesReceived(): number {
    return this.chunks.reduce((n, b) => n + b.length, 0);
  }

  /** Every byte received, the head included. */
  all(): Buffer {
    const head = this.beforeHead ? Buffer.concat(this.beforeHead) : Buffer.from(this.head, 'latin1');
    return Buffer.concat([head, this.received]);
  }

  /** The first close frame received, with its code (1005 when empty). */
  get closeFrame(): { code: number; reason: Buffer; payload: Buffer } | undefined {
    const f = this.frames.find((x) => x.opcode === OP.CLOSE);
    if (!f) return undefined;
    return { code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005, reason: f.payload.subarray(2), payload: f.payload };
  }

  /** The code of the first close frame received, or null. */
  get closeCode(): number | null {
    return this.closeFrame?.code ?? null;
  }

  /** Stop reading: the socket is paused, the kernel buffers fill, the other side sees backpressure. */
  stopReading(): void {
    this.socket.pause();
  }

  /** Read again after {@link stopReading}. */
  startReading(): void {
    this.socket.resume();
  }

  /** Write bytes; resolves once they are handed to the kernel, or at once if the socket is gone. */
  write(data: string | Buffer): Promise<void> {
    if (this.socket.destroyed) {
      this.writeFailed = true;
      return Promise.resolve();
    }
    // 'close' covers a socket destroyed with the write still queued.
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('close', done);
      this.socket.write(data, (err) => {
        if (err) this.writeFailed = true;
        done();
      });
    });
  }

  /** Frames encoded as this peer's role must send them (a client masks, with a fresh key per frame). */
  encode(specs: FrameSpec | FrameSpec[]): Buffer {
    return encodeFrames(specs, this.role);
  }

  /** Write bytes (or frames) split into `chunk`-sized writes with `delayMs` between them. */
  async send(what: Buffer | string | FrameSpec | FrameSpec[], opts: SendOptions = {}): Promise<void> {
    const bytes = typeof what === 'string' ? Buffer.from(what, 'latin1') : Buffer.isBuffer(what) ? what : this.encode(what);
    const size = opts.chunk && opts.chunk > 0 ? opts.chunk : bytes.length || 1;
    for (let off = 0; off < bytes.length; off += size) {
      if (this.writeFailed || this.socket.destroyed) {
        this.writeFailed = true;
        return;
      }
      await this.write(bytes.subarray(off, off + size));
      if (off + size < bytes.length) await pause(opts.delayMs ?? 0);
    }
  }

  /** Write one byte per turn of the event loop. */
  writeBytewise(data: string | Buffer): Promise<void> {
    return this.send(data, { chunk: 1 });
  }

  /** Wait until `predicate(received)` holds or the socket closes; resolves with the bytes after the head. */
  async until(predicate: (received: Buffer) => boolean): Promise<Buffer> {
    while (!predicate(this.received) && !this.closed) await this.next();
    return this.received;
  }

  /** Wait for the first frame that satisfies `predicate` (undefined if the socket closes first). */
  async untilFrame(predicate: (f: Frame) => boolean): Promise<Frame | undefined> {
    for (;;) {
      const f = this.frames.find(predicate);
      if (f || this.closed) return f;
      await this.next();
    }
  }

  /** Wait for the library's close frame; its code, or null if the socket closed without one. */
  async untilClose(): Promise<number | null> {
    await this.untilFrame((f) => f.opcode === OP.CLOSE);
    return this.closeCode;
  }

  /** Wait for the end of the HTTP head; '' if the socket closed first. */
  async readHead(): Promise<string> {
    while (this.beforeHead !== null && !this.closed) await this.next();
    return this.head;
  }

  /** Wait until the socket has closed; resolves with every byte received, the head included. */
  async whenClosed(): Promise<Buffer> {
    while (!this.closed) await this.next();
    return this.all();
  }

  /** Resolves once `pred` holds, re-checked on every chunk and on disconnect; rejects after `timeoutMs`. */
  waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
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

  waitRemoteClosed(timeoutMs = 5000): Promise<void> {
    return this.waitFor(() => this.remoteClosed, timeoutMs, 'the TCP connection to be closed');
  }

  /** A short summary of what arrived, for failure messages. */
  describe(): string {
    const frames = this.frames.map((f) => `${f.opcode}${f.fin ? '' : '(no fin)'}:${f.payload.length}`);
    return `[${frames.join(', ')}]${this.remoteClosed ? ' + TCP closed' : ''}`;
  }

  /** Half-close: send FIN, keep reading. */
  end(): void {
    this.socket.end();
  }

  /** Abort with a TCP reset (RST). */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Called for every decoded frame (subclasses check or reassemble them). */
  protected onFrame(_f: Frame): void {}

  private next(): Promise<void> {
    return new Promise<void>((resolve) => {
      const once_ = (): void => {
        this.waiters.delete(once_);
        resolve();
      };
      this.waiters.add(once_);
    });
  }

  private onGone(): void {
    this.remoteClosed = true;
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private onData(chunk: Buffer): void {
    if (this.beforeHead !== null) {
      this.beforeHead.push(chunk);
      const buf = Buffer.concat(this.beforeHead);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) {
        this.beforeHead = [buf];
        this.notify();
        return;
      }
      this.beforeHead = null;
      this.head = buf.toString('latin1', 0, end + 4);
      if (this.head.startsWith('HTTP/1.1 101 ')) this.decoder = new FrameDecoder();
      chunk = buf.subarray(end + 4);
      if (chunk.length === 0) {
        this.notify();
        return;
      }
    }
    this.chunks.push(chunk);
    this.joined = null;
    if (this.decoder) {
      try {
        for (const f of this.decoder.push(chunk)) {
          this.frames.push(f);
          this.onFrame(f);
        }
      } catch (e) {
        this.decodeErrors.push(String(e));
        this.decoder = null;
      }
    }
    this.notify();
  }
}

/** Connect, send `data` (each element written separately), and collect everything until the peer closes. */
export async function exchange(port: number, data: Array<string | Buffer> | string | Buffer): Promise<Buffer> {
  const peer = await RawPeer.connect(port);
  for (const c of Array.isArray(data) ? data : [data]) void peer.write(c);
  const all = await peer.whenClosed();
  // A reset after the answer arrived still counts as an answer.
  const err = peer.error as NodeJS.ErrnoException | null;
  if (err && !(all.length > 0 && err.code === 'ECONNRESET')) throw err;
  return all;
}

/**
 * Reads from a bare socket (one side of `socketPair()`) until `predicate(all bytes since
 * this call)` holds or the socket closes. Attaches its listener only for the call, so a
 * socket that is not being read stays unread.
 */
export function readUntil(socket: net.Socket, predicate: (all: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve) => {
    let all = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      all = Buffer.concat([all, chunk]);
      if (predicate(all)) { done(); }
    };
    const done = (): void => {
      socket.off('data', onData);
      socket.off('close', done);
      resolve(all);
    };
    socket.on('data', onData);
    socket.on('close', done);
  });
}

/** Decodes frames from a bare socket until one satisfies `last` (included) or the socket closes. */
export function readFrames(socket: net.Socket, last: (f: Frame) => boolean): Promise<Frame[]> {
  return new Promise((resolve) => {
    const decoder = new FrameDecoder();
    const all: Frame[] = [];
    const finish = (): void => {
      socket.off('data', onData);
      socket.off('close', finish);
      resolve(all);
    };
    const onData = (chunk: Buffer): void => {
      const frames = decoder.push(chunk);
      all.push(...frames);
      if (frames.some(last)) finish();
    };
    socket.on('data', onData);
    socket.on('close', finish);
  });
}
