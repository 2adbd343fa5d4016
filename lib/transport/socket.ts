import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls'; // the module is loaded on first use (startup RSS: bench/RESULTS.md, "Streams analysis")
import { UNBOUND, type TlsInfo, type Transport, type TransportListener } from './transport.js';
import { SocketTlsInfo } from './tls-info.js';
import { encodeFrame, encodeFrameInto, frameHeaderSize } from '../protocol/frame-writer.js';

/**
 * Binds a WebSocket connection to a `net.Socket` / `tls.TLSSocket` after the
 * HTTP/1.1 upgrade. Writes issued in the same tick are batched: small frames
 * are gathered here and large ones behind a cork, and everything leaves on the
 * next tick in one write (or writev) instead of one syscall each. One tick
 * flushes every transport written to in the tick before it (a publish to
 * thousands of sockets schedules one callback, not one per socket), and a
 * socket is corked only when a large chunk has to wait in its stream.
 */
export class SocketTransport implements Transport {
  // The fields a write reads come first, together (a publish writes to thousands of transports
  // in one pass, and each cache line of each one is a memory load).
  private readonly socket: Socket;
  private closed = false;
  /** @internal Waiting for the shared flush tick. */
  scheduled = false;
  /**
   * The small chunks of this tick: the first in `one` (a publish to thousands of sockets gives
   * each one chunk per tick, and an array push and reset per socket costs more than a field),
   * the rest after it in `small` (`several`).
   */
  private one: Buffer | null = null;
  private smallBytes = 0;
  /** Frames encoded in place this tick: slab[runStart, runEnd) (see writeFrame). */
  private runSlab: Buffer | null = null;
  private runEnd = 0;
  private several = false;
  private readonly small: Buffer[] = [];
  private runStart = 0;
  /** The socket is corked (a large chunk waits in it). */
  private corked = false;
  private readingPaused = false;
  /** @internal Read by the shared socket event handlers below. */
  listener: TransportListener = UNBOUND;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    // connect()'s createConnection may hand over any Duplex, which has no Nagle or idle timer to turn off.
    socket.setNoDelay?.(true);
    socket.setTimeout?.(0);
  }

  bind(listener: TransportListener): void {
    const socket = this.socket;
    this.listener = listener;
    // Shared handlers find their transport through the socket: no closures per connection.
    (socket as BoundSocket)[kTransport] = this;
    socket.on('data', onSocketData);
    socket.on('drain', onSocketDrain);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    // The handshake code may have paused the socket while handing it over.
    socket.resume();
    // A peer may vanish during the handover: 'close' then already fired.
    if (socket.closed) queueMicrotask(() => this.closeLate());
  }

  get tls(): TlsInfo | null {
    return this.socket instanceof process.getBuiltinModule('node:tls').TLSSocket ? new SocketTlsInfo(this.socket) : null;
  }

  /** Queue chunks for the wire, in order, without concatenating them. */
  write(chunks: Buffer[], shared = false): boolean {
    const socket = this.socket;
    // `writable` is false once the socket ends, errs or is destroyed. It reads only the writable
    // side's state (`destroyed || writableEnded` reads both sides): for a publish to 10,000
    // sockets that is measurably less work per message (bench/RESULTS.md, round seven).
    if (this.closed || !socket.writable) return true;
    let i = 0;
    if (!this.scheduled) {
      schedule(this);
      // Nothing is gathered or corked before a tick's first write. A publish's large first chunk
      // goes straight to the socket: for a batch written to each of thousands of subscribers, a
      // cork held for it alone is the stream buffering it and releasing it at the flush, about
      // 1 µs per subscriber (bench/RESULTS.md, round seven). Other large writes still wait for the
      // tick, so send() reports them as queued until then.
      const first = chunks[0];
      if (shared && first !== undefined && first.length > SMALL_CHUNK) {
        socket.write(first);
        i = 1;
      }
    }
    if (this.runSlab !== null) this.endRun();
    for (; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      if (chunk.length <= SMALL_CHUNK) {
        this.addSmall(chunk);
        this.smallBytes += chunk.length;
        if (this.smallBytes >= SMALL_BATCH) {
          this.cork();
          this.flushSmall();
        }
      } else {
        this.cork();
        this.flushSmall();
        socket.write(chunk);
      }
    }
    return !socket.writableNeedDrain;
  }

  /**
   * Write one frame: the same bytes as `write(encodeFrame(b0, payload, masked))`. A small frame
   * is encoded straight into the tick's batch (a run of bytes in a shared slab, extended in place
   * while no other transport takes slab space after it), so it costs no buffer of its own and
   * no copy when the batch leaves.
   */
  writeFrame(b0: number, payload: Buffer, masked: boolean): boolean {
    const socket = this.socket;
    const size = frameHeaderSize(payload.length, masked) + payload.length;
    if (size > SMALL_CHUNK) return this.write(encodeFrame(b0, payload, masked));
    if (this.closed || !socket.writable) return true;
    if (!this.scheduled) schedule(this);
    if (this.runSlab === null || this.runSlab !== slab || this.runEnd !== slabPos || slabPos + size > SLAB_SIZE) {
      if (this.runSlab !== null) this.endRun();
      if (slabPos + size > SLAB_SIZE) {
        slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
        slabPos = 0;
      }
      this.runSlab = slab;
      this.runStart = this.runEnd = slabPos;
    }
    slabPos = this.runEnd = encodeFrameInto(slab, slabPos, b0, payload, masked);
    this.smallBytes += size;
    if (this.smallBytes >= SMALL_BATCH) {
      this.cork();
      this.flushSmall();
    }
    return !socket.writableNeedDrain;
  }

  /** Close the current run: its bytes join the batch as one chunk (already counted in smallBytes). */
  private endRun(): void {
    this.addSmall(this.runSlab!.subarray(this.runStart, this.runEnd));
    this.runSlab = null;
  }

  private addSmall(chunk: Buffer): void {
    if (this.one === null) {
      this.one = chunk;
    } else {
      if (!this.several) {
        this.several = true;
        this.small.push(this.one);
      }
      this.small.push(chunk);
    }
  }

  /**
   * Small frames written in one tick leave as one buffer: a copy of a few
   * hundred bytes is cheaper than the stream's bookkeeping for each chunk.
   * Large payloads are never copied.
   */
  private flushSmall(): void {
    if (this.runSlab !== null) this.endRun();
    let buf = this.one;
    if (buf === null) return;
    this.one = null;
    if (this.several) {
      this.several = false;
      buf = joined(this.small, this.smallBytes);
      // The same array again: a new one per flush is garbage for every socket written in a tick.
      this.small.length = 0;
    }
    this.smallBytes = 0;
    this.socket.write(buf);
  }

  /** Hold the socket's own writes until the flush tick (they then leave in one writev). */
  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
  }

  whenFlushed(cb: () => void): void {
    const socket = this.socket;
    if (this.closed || !socket.writable) return;
    this.flushSmall();
    socket.write(EMPTY, cb);
  }

  get writableLength(): number {
    return this.socket.writableLength + this.smallBytes;
  }

  get writableNeedDrain(): boolean {
    return this.socket.writableNeedDrain;
  }

  pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.readingPaused) return;
    this.readingPaused = false;
    this.socket.resume();
  }

  end(): void {
    if (this.scheduled) this.flush();
    if (!this.socket.writableEnded) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** @internal */
  flush(): void {
    if (!this.scheduled) return;
    this.scheduled = false;
    this.corked = false;
    // Behind the large chunks held by the cork (then in the same writev), or, with nothing held,
    // straight to the handle; never into a socket already ended (the peer's FIN ends it when
    // half-open is off), which would only raise a write-after-end error.
    if (this.socket.writable) this.flushSmall();
    // cork() may have been called more than once by other writers; drain them all.
    while (this.socket.writableCorked > 0) this.socket.uncork();
  }

  /** @internal */
  closeLate(): void {
    if (this.closed) return;
    this.closed = true;
    this.listener.onTransportClose();
  }
}

const EMPTY = Buffer.alloc(0);
/**
 * Small frames are encoded into this slab, each transport's frames of one tick as one run. Space
 * is handed out once and never reused (the socket may hold a run until the kernel takes it); a
 * full slab is replaced and freed with the last run that references it.
 */
const SLAB_SIZE = 64 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
let slabPos = 0;
/** Chunks up to this size are gathered and written as one buffer per tick... */
const SMALL_CHUNK = 4096;
/** ...up to this many bytes at a time. */
const SMALL_BATCH = 64 * 1024;
const kTransport = Symbol('rfcws.transport');
type BoundSocket = Socket & { [kTransport]: SocketTransport };

function onSocketData(this: BoundSocket, chunk: Buffer): void {
  this[kTransport].listener.onData(chunk);
}

function onSocketDrain(this: BoundSocket): void {
  this[kTransport].listener.onDrain();
}

function onSocketError(this: BoundSocket, err: Error): void {
  this[kTransport].listener.onTransportError(err);
}

function onSocketClose(this: BoundSocket): void {
  this[kTransport].closeLate();
}



/**
 * Transports written to in this tick, flushed together on the next one. Two arrays in turn, each
 * emptied after its flush: a new array per tick would grow again, by copies, to the number of
 * sockets written (thousands for a publish).
 */
let dirty: SocketTransport[] = [];
let spare: SocketTransport[] = [];

function schedule(transport: SocketTransport): void {
  transport.scheduled = true;
  if (dirty.length === 0) process.nextTick(flushDirty);
  dirty.push(transport);
}

function flushDirty(): void {
  const list = dirty;
  dirty = spare;
  sharing = true;
  try {
    for (let i = 0; i < list.length; i++) list[i]!.flush();
  } finally {
    sharing = false;
    lastParts = null;
    lastJoined = EMPTY;
    // Emptied even if a flush threw (then, as before this list was reused, the rest of it is not retried).
    list.length = 0;
    spare = list;
  }
}

/**
 * While one tick's transports are flushed, sockets that gathered the very same buffers in the
 * same order (the frames of one publish, shared by every subscriber) share one concatenation
 * instead of a copy each. No code runs between those flushes, so the bytes are the same.
 */
let sharing = false;
let lastParts: Buffer[] | null = null;
let lastJoined = EMPTY;

function joined(parts: Buffer[], bytes: number): Buffer {
  if (!sharing) return Buffer.concat(parts, bytes);
  const last = lastParts;
  if (last !== null && last.length === parts.length) {
    let same = true;
    for (let i = 0; i < parts.length; i++) {
      if (last[i] !== parts[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastJoined;
  }
  // A copy: the transport empties and refills its own array.
  lastParts = parts.slice();
  lastJoined = Buffer.concat(parts, bytes);
  return lastJoined;
}
