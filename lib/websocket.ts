import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Connection, type ConnectionHandler } from './protocol/connection.js';
import type { MessageTransform } from './protocol/extension.js';
import { SocketTransport, type TransportListener } from './transport/socket.js';
import { joinTicker, leaveTicker, tickPeriod, type TickerMember } from './ticker.js';
import { MessageIterator, type Message } from './iterator.js';
import { InvalidArgumentError, InvalidStateError, WebSocketError, type ProtocolError } from './errors.js';

/** Options shared by both roles (server connections and client connections). */
export interface WebSocketOptions {
  /** Largest message accepted, in bytes, counting all fragments and, when compressed, the inflated size. Default 64 MiB. */
  maxPayload?: number;
  /** Most frames one message may be split into. Default: the protocol core's (see README). */
  maxFragments?: number;
  /** Send a ping this often (ms); 0 turns keepalive off. Default 30 000. */
  keepAliveInterval?: number;
  /** A peer that sends nothing at all within this many ms after a keepalive ping is terminated (reported as 1006). Default 30 000. */
  keepAliveTimeout?: number;
  /** How long (ms) to wait for the closing handshake and the TCP close before destroying the socket. Default 5 000. */
  closeTimeout?: number;
  /** Close with 1001 after this many ms without a data message in either direction; 0 = off (default). */
  idleTimeout?: number;
  /** `send()` returns false once `bufferedAmount` reaches this many bytes; `drain` follows. Default 1 MiB. */
  sendHighWaterMark?: number;
  /** Hard limit on `bufferedAmount`; a send that would pass it fails and triggers `sendQueueLimitPolicy`. Default 64 MiB. */
  maxSendQueue?: number;
  /** What to do with a peer that lets the send queue fill: close with 1008 (default) or terminate at once. */
  sendQueueLimitPolicy?: 'close' | 'terminate';
}

/** Everything the handshake layer hands over once the upgrade has succeeded. */
export interface WebSocketInit {
  role: 'server' | 'client';
  /** A `net.Socket` or `tls.TLSSocket`; the HTTP handshake is complete. */
  socket: Socket;
  /** Bytes received after the handshake head (the peer may pipeline its first frames). */
  head: Buffer;
  /** The negotiated subprotocol, or ''. */
  protocol: string;
  /** The negotiated `Sec-WebSocket-Extensions` value, or ''. */
  extensions: string;
  /** The negotiated per-message transform (permessage-deflate), or null. */
  transform: MessageTransform | null;
  /** The URL the client dialled (client role). */
  url?: string;
  options: WebSocketOptions;
  /** A set this connection removes itself from when it closes (the server's `clients`): no per-connection listener needed. */
  registry?: Set<WebSocket>;
}

/** The resolved defaults; see {@link WebSocketOptions}. */
export const DEFAULT_OPTIONS = Object.freeze({
  maxPayload: 64 * 1024 * 1024,
  keepAliveInterval: 30_000,
  keepAliveTimeout: 30_000,
  closeTimeout: 5_000,
  idleTimeout: 0,
  sendHighWaterMark: 1024 * 1024,
  maxSendQueue: 64 * 1024 * 1024,
  sendQueueLimitPolicy: 'close' as 'close' | 'terminate',
});

/** Data accepted by `send()`. */
export type SendData = string | Buffer | ArrayBuffer | ArrayBufferView;

export interface SendOptions {
  /** Send as binary (default for Buffers and typed arrays) or text (default for strings). */
  binary?: boolean;
  /** Compress this message when permessage-deflate is negotiated (default true, above the extension's threshold).
   *  Pass false for messages that carry secrets next to attacker-controlled data (CRIME/BREACH). */
  compress?: boolean;
  /** false streams a message in pieces: more `send()` calls follow, the last with `fin: true`. Default true. */
  fin?: boolean;
}

/** Input buffered but not yet parsed above which the socket stops being read. */
const RECEIVE_HIGH_WATER_MARK = 1024 * 1024;
const PAUSE_STARTUP = 1;
const PAUSE_CONSUMER = 2;
const PAUSE_USER = 4;
/** Reasons that also stop the socket being read (not just message delivery). */
const STOP_READING = PAUSE_CONSUMER | PAUSE_USER;
/** How long the client waits for the server to close TCP after the closing handshake. */
const CLIENT_TCP_CLOSE_WAIT = 1_000;

/**
 * One WebSocket connection, either role. Created by {@link WebSocketServer}
 * (server role) or {@link connect} (client role), already open.
 *
 * Events: `open`, `message` (data: Buffer, isBinary: boolean), `ping` (Buffer),
 * `pong` (Buffer), `close` (code, reason, wasClean), `error` (Error; emitted only
 * when a listener exists, so a hostile peer cannot crash a process that did not
 * subscribe), `drain`.
 */
export class WebSocket extends EventEmitter implements TickerMember, TransportListener {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;

  /** The negotiated subprotocol, or ''. */
  readonly protocol: string;
  /** The negotiated extensions (`Sec-WebSocket-Extensions` value), or ''. */
  readonly extensions: string;
  /** The URL dialled (client role). */
  readonly url: string | undefined;
  readonly role: 'server' | 'client';

  private state = 1;
  private readonly conn: Connection;
  private readonly transport: SocketTransport;
  /** The shared ticker's period for keepalive and idle checks (0 = neither is on). */
  private readonly tickEvery: number;
  /** Keepalive: the next ping, the pending deadline (0 = none), and whether bytes arrived since that ping. */
  private kaNextPing = 0;
  private kaDeadline = 0;
  private kaSeen = true;
  private readonly opts: ResolvedOptions;
  private readonly transform: (MessageTransform & { readonly threshold?: number }) | null;
  private pauseReasons = PAUSE_STARTUP;
  private readBlocked = false;
  private needDrain = false;
  private pendingPong: Buffer | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  /** Idle timeout: set by every data message either way; the ticker moves idleSince while it is set. */
  private idleActivity = false;
  private idleSince = 0;
  private peerCode = 0;
  private peerReason = '';
  private localCode = 0;
  private localReason = '';
  private closeEmitted = false;
  private readonly registry: Set<WebSocket> | null;
  private iterator: MessageIterator | null = null;

  /** @internal Use `connect()` or `WebSocketServer`; the handshake layer builds these. */
  constructor(init: WebSocketInit) {
    super();
    this.role = init.role;
    this.protocol = init.protocol;
    this.extensions = init.extensions;
    this.url = init.url;
    this.transform = init.transform;
    const o = init.options;
    this.opts = resolveOptions(o);
    this.conn = new Connection(new ConnectionBridge(this), {
      role: init.role,
      maxPayload: this.opts.maxPayload,
      maxFragments: o.maxFragments,
      transform: init.transform,
      autoPong: false,
    });
    // Nothing is delivered until the caller had a chance to attach listeners
    // (the server's 'connection' event, the client's resolved promise).
    this.conn.pause();
    this.transport = new SocketTransport(init.socket, this);
    if (init.head.length > 0) this.conn.receive(init.head);
    this.registry = init.registry ?? null;
    const keepAlive = this.opts.keepAliveInterval > 0;
    this.tickEvery = tickPeriod(keepAlive ? this.opts.keepAliveInterval : 0, keepAlive ? this.opts.keepAliveTimeout : 0, this.opts.idleTimeout);
    if (this.tickEvery !== 0) {
      const now = Date.now();
      this.kaNextPing = now + this.opts.keepAliveInterval;
      this.idleSince = now;
      joinTicker(this, this.tickEvery);
    }
    setImmediate(() => {
      if (this.state === WebSocket.OPEN) this.emit('open');
      this.release(PAUSE_STARTUP);
    });
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): number {
    return this.state;
  }

  /** Bytes accepted by `send()` and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.transport.writableLength + this.conn.pendingSendBytes;
  }

  get remoteAddress(): string | undefined {
    return this.transport.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.transport.remotePort;
  }

  /**
   * Send a message (or, with `fin: false`, one piece of a streamed message).
   * Returns false when `bufferedAmount` has reached `sendHighWaterMark` (wait
   * for `drain`), or when the message was not accepted: the connection is not
   * open, or the send queue limit was hit. `cb` is called once the frame is
   * handed to the socket, or with the error that prevented it. Never throws
   * for state: a peer can close at any moment, so that is reported, not thrown.
   */
  send(data: SendData, options?: SendOptions | ((err?: Error) => void), cb?: (err?: Error) => void): boolean {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    let buf: Buffer;
    let binary: boolean;
    if (typeof data === 'string') {
      buf = Buffer.from(data, 'utf8');
      binary = options?.binary ?? false;
    } else {
      buf = toBuffer(data);
      binary = options?.binary ?? true;
    }
    if (this.state !== WebSocket.OPEN) {
      if (cb) process.nextTick(cb, new InvalidStateError(`WebSocket is not open (readyState ${this.state}); the message was not sent`));
      return false;
    }
    if (this.bufferedAmount + buf.length > this.opts.maxSendQueue) {
      this.onSendQueueFull(cb);
      return false;
    }
    const fin = options?.fin ?? true;
    const transform = this.transform;
    // The core decides from a message's first piece and keeps that for the rest; a streamed
    // message's size is unknown up front, so it is compressed whatever the threshold.
    const compress = transform !== null && options?.compress !== false && (!fin || buf.length >= (transform.threshold ?? 0));
    this.idleActivity = true;
    // With a transform any send may wait behind a compression: learn when it leaves.
    if (transform !== null || cb !== undefined || this.needDrain) {
      this.conn.send(buf, binary, { fin, compress }, (err?: Error) => this.afterSend(err, cb));
    } else {
      this.conn.send(buf, binary, { fin, compress: false });
    }
    if (this.bufferedAmount >= this.opts.sendHighWaterMark) {
      if (!this.needDrain) {
        this.needDrain = true;
        this.watchFlush();
      }
      return false;
    }
    return true;
  }

  /** Send a ping (payload up to 125 bytes). */
  ping(data?: SendData): void {
    this.sendControl(data, true);
  }

  /** Send an unsolicited pong (payload up to 125 bytes). */
  pong(data?: SendData): void {
    this.sendControl(data, false);
  }

  /**
   * Start the closing handshake. `code` must be one a peer may receive
   * (1000-1003, 1007-1014, 3000-4999) and `reason` at most 123 UTF-8 bytes;
   * otherwise this throws InvalidArgumentError. A no-op once closing.
   */
  close(code?: number, reason?: string): void {
    if (code === undefined && reason !== undefined && reason !== '') {
      throw new InvalidArgumentError('a close reason needs a close code');
    }
    if (this.state !== WebSocket.OPEN) return;
    this.conn.close(code, reason);
    this.state = WebSocket.CLOSING;
    this.startCloseTimer(this.opts.closeTimeout);
  }

  /** Stop reading from the peer: no `message` events, TCP pushes back on the sender. */
  pause(): void {
    this.hold(PAUSE_USER);
  }

  /** Undo `pause()`. */
  resume(): void {
    this.release(PAUSE_USER);
  }

  /** Drop the connection at once, without a closing handshake (reported as 1006). */
  terminate(): void {
    if (this.state === WebSocket.CLOSED) return;
    this.state = WebSocket.CLOSING;
    this.transport.destroy();
  }

  /**
   * Receive messages with `for await`. The socket stops being read while the
   * loop body is busy and enough messages are queued, so a slow consumer
   * never makes memory grow. Ends after a clean close; throws
   * ConnectionClosedError after an abnormal one.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    if (this.iterator === null || this.iterator.finished) {
      this.iterator = new MessageIterator(this, {
        pause: () => this.hold(PAUSE_CONSUMER),
        resume: () => this.release(PAUSE_CONSUMER),
      });
    }
    return this.iterator;
  }

  // ---- internal: events from the protocol core --------------------------------------

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    this.idleActivity = true;
    this.emit('message', data, isBinary);
    if (this.readBlocked) this.updateReading();
  }

  /** @internal */
  onPing(payload: Buffer): void {
    if (!this.conn.closeSent) {
      // Under a ping flood from a peer that does not read, answer only the latest (RFC 6455 5.5.3).
      if (this.transport.writableNeedDrain) this.pendingPong = Buffer.from(payload);
      else this.conn.pong(payload);
    }
    this.emit('ping', payload);
  }

  /** @internal */
  onPong(payload: Buffer): void {
    this.emit('pong', payload);
  }

  /** @internal The peer's close frame; our answer (if needed) is already written. */
  onCloseFrame(code: number, reason: string): void {
    this.peerCode = code;
    this.peerReason = reason;
    this.state = WebSocket.CLOSING;
    if (this.role === 'server') {
      // The server closes TCP first (RFC 6455 7.1.1).
      this.transport.end();
      this.startCloseTimer(this.opts.closeTimeout);
    } else {
      this.startCloseTimer(Math.min(CLIENT_TCP_CLOSE_WAIT, this.opts.closeTimeout));
    }
  }

  /** @internal The peer broke the protocol; the close frame is written. */
  onFail(err: ProtocolError): void {
    if (this.localCode === 0) {
      this.localCode = err.closeCode;
      this.localReason = err.message;
    }
    this.state = WebSocket.CLOSING;
    this.emitError(err);
    this.transport.end();
    this.startCloseTimer(this.opts.closeTimeout);
  }

  /** @internal */
  write(chunks: Buffer[]): void {
    this.transport.write(chunks);
  }

  // ---- internal: events from the transport ------------------------------------------

  /** @internal */
  onData(chunk: Buffer): void {
    this.kaSeen = true;
    this.conn.receive(chunk);
    if (this.conn.bufferedAmount >= RECEIVE_HIGH_WATER_MARK) {
      this.readBlocked = true;
      this.transport.pauseReading();
      this.watchBufferedInput();
    }
  }

  /** @internal */
  onDrain(): void {
    if (this.pendingPong !== null && !this.conn.closeSent) {
      const payload = this.pendingPong;
      this.pendingPong = null;
      this.conn.pong(payload);
    }
    this.maybeDrain();
  }

  /** @internal */
  onSocketError(err: Error): void {
    // Resets are routine on the internet: build the wrapper (and its stack) only for a listener.
    if (this.listenerCount('error') > 0) {
      this.emit('error', new WebSocketError('ERR_WS_SOCKET', `socket error: ${err.message}`, { cause: err }));
    }
  }

  /** @internal */
  onSocketClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.state = WebSocket.CLOSED;
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    if (this.tickEvery !== 0) leaveTicker(this, this.tickEvery);
    this.registry?.delete(this);
    this.conn.destroy();
    let code: number;
    let reason: string;
    const wasClean = this.conn.closeReceived && this.conn.closeSent && this.localCode === 0;
    if (this.peerCode !== 0 && this.localCode === 0) {
      code = this.peerCode;
      reason = this.peerReason;
    } else if (this.localCode !== 0) {
      code = this.localCode;
      reason = this.localReason;
    } else {
      code = 1006;
      reason = '';
    }
    this.emit('close', code, reason, wasClean);
  }

  // ---- internal helpers --------------------------------------------------------------

  private sendControl(data: SendData | undefined, isPing: boolean): void {
    const payload = data === undefined ? EMPTY : typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data);
    if (payload.length > 125) {
      throw new InvalidArgumentError(`a ${isPing ? 'ping' : 'pong'} payload is at most 125 bytes (got ${payload.length})`);
    }
    if (this.state !== WebSocket.OPEN) {
      throw new InvalidStateError(`cannot send a ${isPing ? 'ping' : 'pong'}: WebSocket is not open (readyState ${this.state})`);
    }
    if (isPing) this.conn.ping(payload);
    else this.conn.pong(payload);
  }

  private afterSend(err: Error | undefined, cb: ((err?: Error) => void) | undefined): void {
    if (cb) cb(err);
    if (this.needDrain) this.maybeDrain();
  }

  private maybeDrain(): void {
    if (!this.needDrain) return;
    if (this.bufferedAmount < this.opts.sendHighWaterMark) {
      this.needDrain = false;
      this.emit('drain');
    } else {
      this.watchFlush();
    }
  }

  /**
   * The socket emits 'drain' only after one of its writes returned false (its
   * own 16 KiB mark); below that, ask to be told when what is queued now has
   * been flushed. Compressions still pending report through afterSend().
   */
  private watchFlush(): void {
    // Nothing in the socket (all of it waits on compression) or a socket 'drain' to come: no need.
    // Waiting on an empty socket would re-arm at once, forever, starving the event loop.
    if (this.transport.writableLength === 0 || this.transport.writableNeedDrain || this.state === WebSocket.CLOSED) return;
    // Allocated only under backpressure: idle connections carry no extra closure.
    this.transport.whenFlushed(() => this.maybeDrain());
  }

  private onSendQueueFull(cb: ((err?: Error) => void) | undefined): void {
    const err = new WebSocketError(
      'ERR_WS_SEND_QUEUE_FULL',
      `send queue limit of ${this.opts.maxSendQueue} bytes reached: the peer is not reading; the connection is being ${this.opts.sendQueueLimitPolicy === 'close' ? 'closed (1008)' : 'terminated'}`,
    );
    if (this.localCode === 0) {
      this.localCode = 1008;
      this.localReason = 'send queue limit exceeded';
    }
    if (cb) process.nextTick(cb, err);
    this.emitError(err);
    if (this.opts.sendQueueLimitPolicy === 'terminate') {
      this.terminate();
    } else {
      this.conn.close(1008, 'send queue limit exceeded');
      this.state = WebSocket.CLOSING;
      this.startCloseTimer(this.opts.closeTimeout);
    }
  }

  /** @internal Visited by the shared ticker: keepalive, then the idle timeout. */
  tick(now: number): void {
    if (this.opts.keepAliveInterval > 0) this.keepAliveTick(now);
    if (this.opts.idleTimeout > 0 && this.state === WebSocket.OPEN) {
      if (this.idleActivity) {
        this.idleActivity = false;
        this.idleSince = now;
      } else if (now - this.idleSince >= this.opts.idleTimeout) {
        this.close(1001, 'idle timeout');
      }
    }
  }

  private keepAliveTick(now: number): void {
    if (this.kaDeadline !== 0) {
      if (this.kaSeen) this.kaDeadline = 0;
      else if (now >= this.kaDeadline) return this.onDeadPeer();
    }
    if (now >= this.kaNextPing) {
      this.kaNextPing = now + this.opts.keepAliveInterval;
      if (this.state === WebSocket.OPEN) this.conn.ping(EMPTY);
      // One deadline at a time, measured from the ping that started it.
      if (this.kaDeadline === 0) {
        this.kaSeen = false;
        this.kaDeadline = now + this.opts.keepAliveTimeout;
      }
    }
  }

  private onDeadPeer(): void {
    if (this.state === WebSocket.CLOSED) return;
    if (this.localCode === 0) {
      this.localCode = 1006;
      this.localReason = 'keepalive timeout: the peer sent nothing';
    }
    this.terminate();
  }

  private startCloseTimer(ms: number): void {
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.closeTimer = setTimeout(() => this.transport.destroy(), ms);
  }

  private hold(reason: number): void {
    const was = this.pauseReasons;
    this.pauseReasons |= reason;
    if (was === 0) this.conn.pause();
    if ((reason & STOP_READING) !== 0) this.transport.pauseReading();
  }

  private release(reason: number): void {
    if ((this.pauseReasons & reason) === 0) return;
    this.pauseReasons &= ~reason;
    if (this.pauseReasons === 0) this.conn.resume();
    this.updateReading();
  }

  private updateReading(): void {
    const blocked = this.conn.bufferedAmount >= RECEIVE_HIGH_WATER_MARK / 2;
    this.readBlocked = blocked;
    if ((this.pauseReasons & STOP_READING) === 0 && !blocked) this.transport.resumeReading();
    // While paused nothing is parsed, so there is nothing to watch: release() looks again.
    else if (blocked && this.pauseReasons === 0) this.watchBufferedInput();
  }

  /** Input can drain without any message event (a large frame being assembled after an inflate), so look again shortly. */
  private watchBufferedInput(): void {
    setTimeout(() => {
      if (this.readBlocked && this.state !== WebSocket.CLOSED) this.updateReading();
    }, 5).unref();
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

const EMPTY = Buffer.alloc(0);

export type ResolvedOptions = Required<Omit<WebSocketOptions, 'maxFragments'>>;

/** One resolved object per options object: every connection of a server shares it. */
const resolvedCache = new WeakMap<WebSocketOptions, ResolvedOptions>();

/** Validates and resolves options (throws InvalidArgumentError); cached per options object. */
export function resolveOptions(o: WebSocketOptions): ResolvedOptions {
  let r = resolvedCache.get(o);
  if (r !== undefined) return r;
  r = Object.freeze({
    maxPayload: nonNegative('maxPayload', o.maxPayload ?? DEFAULT_OPTIONS.maxPayload),
    keepAliveInterval: nonNegative('keepAliveInterval', o.keepAliveInterval ?? DEFAULT_OPTIONS.keepAliveInterval),
    keepAliveTimeout: nonNegative('keepAliveTimeout', o.keepAliveTimeout ?? o.keepAliveInterval ?? DEFAULT_OPTIONS.keepAliveTimeout),
    closeTimeout: nonNegative('closeTimeout', o.closeTimeout ?? DEFAULT_OPTIONS.closeTimeout),
    idleTimeout: nonNegative('idleTimeout', o.idleTimeout ?? DEFAULT_OPTIONS.idleTimeout),
    sendHighWaterMark: nonNegative('sendHighWaterMark', o.sendHighWaterMark ?? DEFAULT_OPTIONS.sendHighWaterMark),
    maxSendQueue: nonNegative('maxSendQueue', o.maxSendQueue ?? DEFAULT_OPTIONS.maxSendQueue),
    sendQueueLimitPolicy: o.sendQueueLimitPolicy ?? DEFAULT_OPTIONS.sendQueueLimitPolicy,
  });
  if (r.sendQueueLimitPolicy !== 'close' && r.sendQueueLimitPolicy !== 'terminate') {
    throw new InvalidArgumentError(`sendQueueLimitPolicy must be 'close' or 'terminate', not ${String(r.sendQueueLimitPolicy)}`);
  }
  resolvedCache.set(o, r);
  return r;
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a number >= 0 (got ${String(value)})`);
  }
  return value;
}

function toBuffer(data: Buffer | ArrayBuffer | ArrayBufferView): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new InvalidArgumentError('send() takes a string, Buffer, ArrayBuffer or typed array');
}

/** Routes the protocol core's callbacks to the WebSocket without exposing them as public methods. */
class ConnectionBridge implements ConnectionHandler {
  constructor(private readonly ws: WebSocket) {}
  write(chunks: Buffer[]): void { this.ws.write(chunks); }
  message(data: Buffer, isBinary: boolean): void { this.ws.onMessage(data, isBinary); }
  ping(payload: Buffer): void { this.ws.onPing(payload); }
  pong(payload: Buffer): void { this.ws.onPong(payload); }
  closeFrame(code: number, reason: string): void { this.ws.onCloseFrame(code, reason); }
  fail(err: ProtocolError): void { this.ws.onFail(err); }
}
