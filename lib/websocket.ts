import { EventEmitter } from 'node:events';
import { Connection, type ConnectionHandler, type EncodedFrame } from './protocol/connection.js';
import { encodeClosePayload } from './protocol/close.js';
import { writeFrameTo } from './protocol/frame-writer.js';
import type { MessageTransform } from './protocol/extension.js';
import type { TlsInfo, Transport, TransportListener } from './transport/transport.js';
import { Liveness, type Clock, type LivenessOwner } from './timers.js';
import { checkExpiry, Expiry } from './expiry.js';
import { MessageIterator, type Message } from './iterator.js';
import { ConnectionClosedError, InvalidArgumentError, InvalidStateError, WebSocketError, withoutStack, type ProtocolError } from './errors.js';
import { resolveOptions, type ResolvedOptions, type WebSocketOptions } from './options.js';
import { failStream, MessageStream } from './incoming-stream.js';
import { isStreamSource, pumpMessage, type SendStreamOptions, type StreamSource } from './outgoing-stream.js';

export type { WebSocketOptions, ResolvedOptions } from './options.js';
export { DEFAULT_OPTIONS, resolveOptions } from './options.js';

/** The server's 101 response as the client received it (client role). */
export interface HandshakeResponse {
  readonly status: number;
  readonly statusText: string;
  /** Lower-case names; repeated fields joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** Names and values as received: [name, value, name, value, ...]. */
  readonly rawHeaders: readonly string[];
}

/** Everything the handshake layer hands over once the upgrade has succeeded. */
export interface WebSocketInit {
  role: 'server' | 'client';
  /** The byte stream, its HTTP handshake complete (a socket, an HTTP/2 stream, a pipe). */
  transport: Transport;
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
  /** The 101 response (client role). */
  handshake?: HandshakeResponse;
  /** The server's or connect()'s options, already resolved there (lib/options.ts caches per object). */
  options: WebSocketOptions;
  /** A set this connection removes itself from when it closes (the server's `clients`): no per-connection listener needed. */
  registry?: Set<WebSocket>;
  /** The clock of keepalive and idle deadlines (tests pass a manual one). */
  clock?: Clock;
  /** The HTTP version the handshake used: '1.1' (an Upgrade, the default) or '2' (an RFC 8441 extended CONNECT). */
  httpVersion?: '1.1' | '2';
  /** The server's topics (lib/pubsub/topics.ts); absent on client connections, which cannot subscribe. */
  topics?: TopicHost;
}

/** Options of `publish()`: as {@link SendOptions}, for a whole message. */
export type PublishOptions = Pick<SendOptions, 'binary' | 'compress'>;

/** @internal The server's topic registry as a connection sees it (implemented in lib/pubsub/). */
export interface TopicHost {
  subscribe(ws: WebSocket, topic: string): boolean;
  unsubscribe(ws: WebSocket, topic: string): boolean;
  topicsOf(ws: WebSocket): ReadonlySet<string>;
  publish(topic: string, data: SendData, options: PublishOptions | undefined, except: WebSocket | null): number;
  leaveAll(ws: WebSocket): void;
  /** Publishes of this tick wait to be written (see flushPending). */
  readonly pending: boolean;
  /** Write them now: before this connection's own frames, so both keep their order. */
  flushPending(): void;
}

/** The events of a {@link WebSocket} and their arguments. */
export interface WebSocketEvents {
  /** Emitted once, in the tick after the connection was handed over (listeners can be attached first). */
  open: [];
  /** A complete message: text is validated UTF-8, still as a Buffer (`isBinary` false). */
  message: [data: Buffer, isBinary: boolean];
  ping: [payload: Buffer];
  pong: [payload: Buffer];
  /** Exactly once per connection: the peer's code, the one we failed with, or 1006. */
  close: [code: number, reason: string, wasClean: boolean];
  /** Emitted only when a listener exists, so a hostile peer cannot crash a process that did not subscribe. */
  error: [err: Error];
  /** `bufferedAmount` fell back under `sendHighWaterMark` after a send returned false. */
  drain: [];
  /** With `streamMessages`: a data message starts; its bytes flow through `stream` as they arrive. */
  messageStream: [stream: MessageStream, isBinary: boolean];
}

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

const PAUSE_STARTUP = 1;
const PAUSE_CONSUMER = 2;
const PAUSE_USER = 4;
const PAUSE_STREAM = 8;
/** Reasons that also stop the transport being read (not just message delivery). */
const STOP_READING = PAUSE_CONSUMER | PAUSE_USER | PAUSE_STREAM;
/** How long the client waits for the server to close TCP after the closing handshake. */
const CLIENT_TCP_CLOSE_WAIT = 1_000;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/**
 * One WebSocket connection, either role, over any transport (a TCP or TLS
 * socket, an in-memory pipe). Created
 * by {@link WebSocketServer} (server role) or {@link connect} (client role),
 * already open: there is no CONNECTING state (the browser-compatible class
 * planned for 'rfcws/web' will have one). See {@link WebSocketEvents} for the events.
 */
export class WebSocket
  extends EventEmitter<WebSocketEvents>
  implements ConnectionHandler, TransportListener, LivenessOwner {
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  // On the prototype (not one field each per connection).
  get OPEN(): typeof OPEN {
    return OPEN;
  }
  get CLOSING(): typeof CLOSING {
    return CLOSING;
  }
  get CLOSED(): typeof CLOSED {
    return CLOSED;
  }

  // The fields a published message reads come first, together: a publish reaches thousands of
  // connections in one pass, and every cache line of every connection it touches is a memory load.
  private state = OPEN;
  private readonly conn: Connection;
  private readonly transport: Transport;
  private readonly topicHost: TopicHost | null;
  private heldBytes = 0;
  /** `opts.maxSendQueue`, here beside the other fields a send reads (the options are an object of their own). */
  private readonly maxSendQueue: number;
  /** The deadlines when an idle timeout watches data messages (they mark it active), else null. */
  private readonly idleWatch: Liveness | null;

  /** The negotiated subprotocol, or ''. */
  readonly protocol: string;
  /** The negotiated extensions (`Sec-WebSocket-Extensions` value), or ''. */
  readonly extensions: string;
  /** The URL dialled (client role). */
  readonly url: string | undefined;
  /**
   * The server's 101 response (HTTP/2: its 200): status, headers, raw headers (client role;
   * undefined on the server side, and after {@link releaseHandshake}).
   */
  readonly handshake: HandshakeResponse | undefined;
  readonly role: 'server' | 'client';
  /** '1.1' when the connection was opened by an HTTP/1.1 Upgrade, '2' when it runs on an HTTP/2 stream (RFC 8441). */
  readonly httpVersion: '1.1' | '2';

  /** Keepalive and idle deadlines; null when both are off. */
  private readonly liveness: Liveness | null;
  private readonly opts: ResolvedOptions;
  private readonly transform: (MessageTransform & { readonly threshold?: number }) | null;
  private pauseReasons = PAUSE_STARTUP;
  private needDrain = false;
  private closeTimer: NodeJS.Timeout | null = null;
  /** The closing handshake is complete both ways and the transport is being closed. */
  private finishing = false;
  private peerCode = 0;
  private peerReason = '';
  private localCode = 0;
  private localReason = '';
  private closeEmitted = false;
  private readonly registry: Set<WebSocket> | null;
  private iterator: MessageIterator | null = null;
  /** Session expiry (`expireAt`); created on first use. */
  private expiry: Expiry | null = null;
  private readonly clock: Clock | undefined;
  private dropped = 0;
  /** streamMessages: the message being received. */
  private inStream: MessageStream | null = null;
  /** sendStream() owns the data frames: later sends and streams (their start functions) wait here, in call order. */
  private held: Array<HeldSend | (() => void)> | null = null;
  /** Set while sendStream() itself sends (its fragments pass the hold). */
  private pumping = false;
  /** A sendStream() fragment waiting for the send queue to fall under the mark. */
  private fragmentWaiter: (() => void) | null = null;

  /** @internal Use `connect()` or `WebSocketServer`; the handshake layer builds these. */
  constructor(init: WebSocketInit) {
    super();
    // EventEmitter starts from `{ __proto__: null }`, which V8 keeps in dictionary mode: a hash
    // table, ~186 B per connection with three listeners. A literal with the usual names preset
    // (undefined: no listener), its prototype then dropped, stays a fast-mode object: ~56 B
    // (measured over 100 000 objects, bench/RESULTS.md round three). eventNames() skips the presets.
    const events = { open: undefined, message: undefined, close: undefined, error: undefined };
    Object.setPrototypeOf(events, null);
    (this as unknown as { _events: object })._events = events;
    this.role = init.role;
    this.protocol = init.protocol;
    this.extensions = init.extensions;
    this.url = init.url;
    this.httpVersion = init.httpVersion ?? '1.1';
    this.handshake = init.handshake;
    this.transform = init.transform;
    const o = resolveOptions(init.options);
    this.opts = o;
    this.maxSendQueue = o.maxSendQueue;
    this.registry = init.registry ?? null;
    this.topicHost = init.topics ?? null;
    this.conn = new Connection(this, {
      role: init.role,
      maxPayload: o.maxPayload,
      maxFragments: o.maxFragments,
      transform: init.transform,
      perFragment: o.streamMessages,
      maxStreamPayload: o.maxStreamPayload,
    });
    // Nothing is delivered until the caller had a chance to attach listeners
    // (the server's 'connection' event, the client's resolved promise); reading goes on meanwhile.
    this.conn.pause(false);
    this.transport = init.transport;
    this.transport.bind(this);
    if (init.head.length > 0) this.conn.receive(init.head);
    this.clock = init.clock;
    this.liveness = Liveness.start(this, o, init.clock);
    this.idleWatch = o.idleTimeout > 0 ? this.liveness : null;
    // One immediate for every connection opened in this turn, not an Immediate and a closure each.
    if (opening.length === 0) setImmediate(runOpening);
    opening.push(this);
  }

  /** @internal Run by the shared startup immediate: 'open', then delivery starts. */
  started(): void {
    if (this.state === OPEN) this.emit('open');
    this.release(PAUSE_STARTUP);
  }

  /** The events that have listeners (the preset names without one are not listed). */
  override eventNames(): ReturnType<EventEmitter<WebSocketEvents>['eventNames']> {
    return super.eventNames().filter((name) => this.listenerCount(name as keyof WebSocketEvents) > 0) as ReturnType<EventEmitter<WebSocketEvents>['eventNames']>;
  }

  /** OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): number {
    return this.state;
  }

  /** Bytes accepted by `send()`, `ping()` and `pong()` and not yet handed to the kernel. */
  get bufferedAmount(): number {
    this.writePublished();
    return this.queuedBytes;
  }

  /** What bufferedAmount counts, for paths that have written this tick's publishes already (or need not). */
  private get queuedBytes(): number {
    return this.transport.writableLength + this.conn.pendingSendBytes + this.heldBytes;
  }

  get remoteAddress(): string | undefined {
    return this.transport.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.transport.remotePort;
  }

  /** Whether data messages arrive as streams (`messageStream`, the `streamMessages` option) rather than whole. */
  get streamsMessages(): boolean {
    return this.opts.streamMessages;
  }

  /** The TLS session under this connection (over HTTP/2: the session's), or null on a cleartext one. */
  get tls(): TlsInfo | null {
    return this.transport.tls;
  }

  /**
   * Send a message (or, with `fin: false`, one piece of a streamed message).
   * Returns false when `bufferedAmount` has reached `sendHighWaterMark` (wait
   * for `drain`), or when the message was not accepted: the connection is not
   * open, or the send queue limit was hit. `cb` is called once the frame is
   * handed to the transport, or with the error that prevented it. Never throws
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
    if (this.state !== OPEN) return this.notOpen('the message was not sent', cb);
    this.writePublished();
    if (this.queuedBytes + buf.length > this.maxSendQueue) {
      this.onSendQueueFull(cb);
      return false;
    }
    if (this.held !== null && !this.pumping) {
      this.held.push([buf, binary, options, cb]);
      this.heldBytes += buf.length;
      return this.belowMark();
    }
    const fin = options?.fin ?? true;
    const transform = this.transform;
    // The core decides from a message's first piece and keeps that for the rest; a streamed
    // message's size is unknown up front, so it is compressed whatever the threshold.
    const compress = transform !== null && options?.compress !== false && (!fin || buf.length >= (transform.threshold ?? 0));
    if (this.idleWatch !== null) this.idleWatch.active = true;
    // With a transform any send may wait behind a compression: learn when it leaves.
    if (transform !== null || cb !== undefined || this.needDrain) {
      this.conn.send(buf, binary, { fin, compress }, (err?: Error) => this.afterSend(err, cb));
    } else {
      this.conn.send(buf, binary, fin ? PLAIN_FIN : PLAIN_MORE);
    }
    return this.belowMark();
  }

  /**
   * Send one message whose data is read from `source` (a Readable or an
   * (async) iterable of Buffers, typed arrays or strings) as it comes, one
   * fragment per chunk, each after `bufferedAmount` fell under
   * `sendHighWaterMark`; with permessage-deflate the whole message is one
   * DEFLATE stream. Resolves once the last fragment is written. `send()` and
   * `sendStream()` calls made meanwhile wait (sends counted in
   * `bufferedAmount`, streams not yet read) and go out after it, in call
   * order. If the source fails, the connection is closed with 1011 (the peer
   * must not take a cut message as complete) and the promise rejects with the
   * source's error.
   */
  sendStream(source: StreamSource, options: SendStreamOptions = {}): Promise<void> {
    if (!isStreamSource(source)) return Promise.reject(new InvalidArgumentError('sendStream() takes a Readable or an (async) iterable'));
    if (this.state !== OPEN) return Promise.reject(new InvalidStateError(`WebSocket is not open (readyState ${this.state}); the stream was not sent`));
    return new Promise((resolve, reject) => {
      const start = (): void => void this.runStream(source, options).then(resolve, reject);
      if (this.held !== null) {
        this.held.push(start);
      } else {
        this.held = [];
        start();
      }
    });
  }

  /**
   * Send a ping (payload up to 125 bytes, else InvalidArgumentError). Like
   * `send()`: returns false and passes InvalidStateError to `cb` when the
   * connection is not open; `cb` runs once the frame is handed to the transport.
   */
  ping(data?: SendData, cb?: (err?: Error) => void): boolean {
    return this.sendControl(data, true, cb);
  }

  /** Send an unsolicited pong; as {@link ping}. Pings from the peer are answered automatically. */
  pong(data?: SendData, cb?: (err?: Error) => void): boolean {
    return this.sendControl(data, false, cb);
  }

  /**
   * Start the closing handshake. `code` must be one a peer may receive
   * (1000-1003, 1007-1014, 3000-4999) and `reason` at most 123 UTF-8 bytes;
   * otherwise this throws InvalidArgumentError. A no-op once closing.
   */
  close(code?: number, reason?: string): void {
    if (this.state !== OPEN) {
      // The same argument checks as an open connection's (they live in protocol/close.ts).
      encodeClosePayload(code, reason);
      return;
    }
    this.writePublished();
    this.conn.close(code, reason);
    this.state = CLOSING;
    this.startCloseTimer(this.opts.closeTimeout);
  }

  /**
   * Close this connection at `at` (a Date or epoch milliseconds) with `code`
   * (default 4001) and `reason` (default 'session expired'), e.g. when the
   * user's session ends; a time already past closes it now. One deadline per
   * connection: a later call replaces it, `expireAt(null)` cancels it. Throws
   * InvalidArgumentError on an invalid time, or a code or reason `close()`
   * would refuse. A no-op once closing.
   */
  expireAt(at: Date | number | null, code?: number, reason?: string): void {
    if (at === null) return this.expiry?.clear();
    if (this.state !== OPEN) {
      checkExpiry(at, code, reason);
      return;
    }
    this.expiry ??= new Expiry((c, r) => {
      if (this.state === OPEN) this.close(c, r);
    }, this.clock);
    this.expiry.set(at, code, reason);
  }

  /** Stop reading from the peer: no `message` events, TCP pushes back on the sender. */
  pause(): void {
    this.hold(PAUSE_USER);
  }

  /** Undo `pause()`. */
  resume(): void {
    this.release(PAUSE_USER);
  }

  /** Let go of {@link handshake} (its headers can be large: cookies, tokens) once the application read what it needs. */
  releaseHandshake(): void {
    (this as { handshake: HandshakeResponse | undefined }).handshake = undefined;
  }

  /** Drop the connection at once, without a closing handshake (reported as 1006). */
  terminate(): void {
    if (this.state === CLOSED) return;
    this.state = CLOSING;
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

  // ---- topics (lib/pubsub/): the server's registry does the work -------------------

  /**
   * Receive what is published to `topic` (server side). Returns false when already
   * subscribed. Throws InvalidStateError on a client connection (it has no server).
   */
  subscribe(topic: string): boolean {
    return this.topicRegistry('subscribe').subscribe(this, topic);
  }

  /** Stop receiving `topic`; false when not subscribed. Every topic is left on close. */
  unsubscribe(topic: string): boolean {
    return this.topicRegistry('unsubscribe').unsubscribe(this, topic);
  }

  /** The topics this connection is subscribed to (a read-only live view; empty on the client side). */
  get topics(): ReadonlySet<string> {
    // Without a server: a fresh empty set each time, so nothing is shared to tamper with.
    return this.topicHost === null ? new Set<string>() : this.topicHost.topicsOf(this);
  }

  /**
   * Publish to every other subscriber of `topic` (not this connection), on this server and,
   * with a broker, on every other. Returns the number of local subscribers it is addressed to
   * (written at the end of the tick; one over its backpressure limit misses it: 'drop').
   */
  publish(topic: string, data: SendData, options?: PublishOptions): number {
    return this.topicRegistry('publish').publish(topic, data, options, this);
  }

  /** Published messages this connection missed: its `bufferedAmount` was over the server's `maxBackpressure` ('drop' policy), or it was streaming a message of its own. */
  get droppedMessages(): number {
    this.writePublished();
    return this.dropped;
  }

  /** @internal The negotiated transform (lib/pubsub/ decides from it who can share a compressed copy). */
  get messageTransform(): MessageTransform | null {
    return this.transform;
  }

  /**
   * @internal Write a frame encoded once for many connections, in order with this connection's
   * own sends. False when it did not go (not open, or in the middle of a streamed send); the
   * send-queue limit applies as to `send()`. `buffered` is this connection's `bufferedAmount`,
   * which the publish loop has just read for its own limit: once per subscriber, not twice.
   */
  sendEncoded(frame: EncodedFrame, buffered: number): boolean {
    if (this.state !== OPEN) return false;
    if (buffered + frame.size > this.maxSendQueue) {
      this.onSendQueueFull(undefined);
      return false;
    }
    if (!this.conn.sendEncoded(frame)) return false;
    if (this.idleWatch !== null) this.idleWatch.active = true;
    return true;
  }

  /** @internal A published message was not written to this connection. */
  noteDropped(): void {
    this.dropped++;
  }

  /** @internal Close with `code` and `reason`, reported as ours on 'close' (a limit was hit). */
  closeForLimit(code: number, reason: string): void {
    if (this.state !== OPEN) return;
    if (this.localCode === 0) {
      this.localCode = code;
      this.localReason = reason;
    }
    this.close(code, reason);
  }

  /** Publishes of this tick still waiting go first: this connection's next frames come after them. */
  private writePublished(): void {
    if (this.topicHost !== null && this.topicHost.pending) this.topicHost.flushPending();
  }

  /** @internal The send-queue limit `sendEncoded` applies. */
  get sendQueueLimit(): number {
    return this.maxSendQueue;
  }

  private topicRegistry(what: string): TopicHost {
    if (this.topicHost === null) {
      throw new InvalidStateError(`${what}() is for connections accepted by a WebSocketServer: topics live in the server, and a ${this.role} connection without one has none`);
    }
    return this.topicHost;
  }

  // ---- internal: events from the protocol core (ConnectionHandler) ------------------

  /** @internal */
  write(chunks: Buffer[], shared?: boolean): boolean {
    return this.transport.write(chunks, shared);
  }

  /** @internal Call `cb` once everything written so far has left for the network (not called if the connection closes first). */
  whenFlushed(cb: () => void): void {
    this.transport.whenFlushed(cb);
  }

  /** @internal */
  writeFrame(b0: number, payload: Buffer, masked: boolean): boolean {
    return writeFrameTo(this.transport, b0, payload, masked) !== false;
  }

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    if (this.opts.streamMessages) {
      // A compressed message inflated whole (a transform without decompressStream): a stream all the same.
      this.onMessageStart(isBinary);
      this.onMessageData(data, true);
      return;
    }
    if (this.idleWatch !== null) this.idleWatch.active = true;
    this.emit('message', data, isBinary);
  }

  /** @internal streamMessages: an uncompressed message starts. */
  onMessageStart(isBinary: boolean): void {
    if (this.idleWatch !== null) this.idleWatch.active = true;
    const stream = new MessageStream(isBinary, {
      pause: () => this.hold(PAUSE_STREAM),
      resume: () => this.release(PAUSE_STREAM),
    });
    this.inStream = stream;
    this.emit('messageStream', stream, isBinary);
  }

  /** @internal streamMessages: the next piece of the message. */
  onMessageData(chunk: Buffer, fin: boolean): void {
    this.inStream!.feed(chunk, fin);
    if (fin) this.inStream = null;
  }

  /** @internal */
  onPing(payload: Buffer): void {
    this.emit('ping', payload);
  }

  /** @internal */
  onPong(payload: Buffer): void {
    this.emit('pong', payload);
  }

  /** @internal The peer's close frame; our answer is written or queued behind earlier sends. */
  onCloseFrame(code: number, reason: string): void {
    this.peerCode = code;
    this.peerReason = reason;
    this.state = CLOSING;
    if (this.inStream !== null) {
      this.cutStream(new WebSocketError('ERR_WS_MESSAGE_TRUNCATED', `the peer closed (code ${code}) before the last frame of the message`));
    }
    this.finishClose();
    // Bounds the wait for sends still queued (compression) ahead of our close frame.
    if (!this.finishing) this.startCloseTimer(this.opts.closeTimeout);
  }

  /** @internal Our close frame left, after everything sent before it. */
  onCloseWritten(): void {
    this.finishClose();
  }

  /** @internal The peer broke the protocol; the close frame is written. */
  onFail(err: ProtocolError): void {
    if (this.localCode === 0) {
      this.localCode = err.closeCode;
      this.localReason = err.message;
    }
    this.state = CLOSING;
    this.cutStream(err);
    this.emitError(err);
    this.transport.end();
    this.startCloseTimer(this.opts.closeTimeout);
  }

  /** @internal The core's read flow decision. */
  setReading(on: boolean): void {
    if (on) this.transport.resumeReading();
    else this.transport.pauseReading();
  }

  // ---- internal: events from the transport (TransportListener) ----------------------

  /** @internal */
  onData(chunk: Buffer): void {
    if (this.liveness !== null) this.liveness.seen = true;
    this.conn.receive(chunk);
    if (this.inStream !== null) this.inStream.flush();
  }

  /** @internal */
  onDrain(): void {
    this.conn.drained();
    this.maybeDrain();
  }

  /** @internal */
  onTransportError(err: Error): void {
    // Resets are routine on the internet: build the wrapper (and its stack) only for a listener.
    if (this.listenerCount('error') > 0) {
      this.emit('error', withoutStack(() => new WebSocketError('ERR_WS_SOCKET', `socket error: ${err.message}`, { cause: err })));
    }
  }

  /** @internal */
  onTransportClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.state = CLOSED;
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.liveness?.stop();
    this.expiry?.clear();
    this.registry?.delete(this);
    this.topicHost?.leaveAll(this);
    this.conn.destroy();
    let code: number;
    let reason: string;
    const wasClean = this.conn.closeReceived && this.conn.closeWritten && this.localCode === 0;
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
    // (An error, and its stack, only for a message stream still open.)
    if (this.inStream !== null) this.cutStream(new ConnectionClosedError(code, reason));
    this.emit('close', code, reason, wasClean);
  }

  // ---- internal: deadlines (LivenessOwner) ------------------------------------------

  /** @internal */
  keepAlivePing(): void {
    if (this.state === OPEN) this.conn.ping(EMPTY);
  }

  /** @internal */
  keepAliveExpired(): void {
    if (this.state === CLOSED) return;
    if (this.localCode === 0) {
      this.localCode = 1006;
      this.localReason = 'keepalive timeout: the peer sent nothing';
    }
    this.terminate();
  }

  /** @internal */
  idleExpired(): void {
    if (this.state === OPEN) this.close(1001, 'idle timeout');
  }

  // ---- internal helpers --------------------------------------------------------------

  /**
   * Once both close frames have passed: the server closes TCP first (RFC 6455
   * 7.1.1); the client gives the server a moment to do so. Called when the
   * peer's close arrives and when ours leaves, whichever is last.
   */
  private finishClose(): void {
    if (this.finishing || !this.conn.closeReceived || !this.conn.closeWritten) return;
    this.finishing = true;
    if (this.role === 'server') {
      this.transport.end();
      this.startCloseTimer(this.opts.closeTimeout);
    } else {
      this.startCloseTimer(Math.min(CLIENT_TCP_CLOSE_WAIT, this.opts.closeTimeout));
    }
  }

  private notOpen(what: string, cb: ((err?: Error) => void) | undefined): false {
    if (cb) process.nextTick(cb, new InvalidStateError(`WebSocket is not open (readyState ${this.state}); ${what}`));
    return false;
  }

  private belowMark(): boolean {
    if (this.queuedBytes < this.opts.sendHighWaterMark) return true;
    if (!this.needDrain) {
      this.needDrain = true;
      this.watchFlush();
    }
    return false;
  }

  private sendControl(data: SendData | undefined, isPing: boolean, cb: ((err?: Error) => void) | undefined): boolean {
    const payload = data === undefined ? EMPTY : typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data);
    if (payload.length > 125) {
      throw new InvalidArgumentError(`a ${isPing ? 'ping' : 'pong'} payload is at most 125 bytes (got ${payload.length})`);
    }
    if (this.state !== OPEN) return this.notOpen(`the ${isPing ? 'ping' : 'pong'} was not sent`, cb);
    this.writePublished();
    if (isPing) this.conn.ping(payload, cb);
    else this.conn.pong(payload, cb);
    return this.belowMark();
  }

  private afterSend(err: Error | undefined, cb: ((err?: Error) => void) | undefined): void {
    if (cb) cb(err);
    if (this.needDrain) this.maybeDrain();
  }

  private maybeDrain(): void {
    if (this.fragmentWaiter !== null && this.inFlight() < this.opts.sendHighWaterMark) {
      const resume = this.fragmentWaiter;
      this.fragmentWaiter = null;
      resume();
    }
    if (!this.needDrain) return;
    if (this.queuedBytes < this.opts.sendHighWaterMark) {
      this.needDrain = false;
      this.emit('drain');
    } else {
      this.watchFlush();
    }
  }

  /**
   * The transport reports 'drain' only after one of its writes returned false
   * (a socket's own 16 KiB mark); below that, ask to be told when what is
   * queued now has been flushed. Compressions still pending report through afterSend().
   */
  private watchFlush(): void {
    // Nothing in the transport (all of it waits on compression) or a 'drain' to come: no need.
    // Waiting on an empty transport would re-arm at once, forever, starving the event loop.
    if (this.transport.writableLength === 0 || this.transport.writableNeedDrain || this.state === CLOSED) return;
    // Allocated only under backpressure: idle connections carry no extra closure.
    this.transport.whenFlushed(() => this.maybeDrain());
  }

  private onSendQueueFull(cb: ((err?: Error) => void) | undefined): void {
    const err = new WebSocketError(
      'ERR_WS_SEND_QUEUE_FULL',
      `send queue limit of ${this.maxSendQueue} bytes reached: the peer is not reading; the connection is being ${this.opts.sendQueueLimitPolicy === 'close' ? 'closed (1008)' : 'terminated'}`,
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
      this.state = CLOSING;
      this.startCloseTimer(this.opts.closeTimeout);
    }
  }

  private startCloseTimer(ms: number): void {
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.closeTimer = setTimeout(() => this.transport.destroy(), ms);
  }

  private hold(reason: number): void {
    this.pauseReasons |= reason;
    this.conn.pause((this.pauseReasons & STOP_READING) !== 0);
  }

  private release(reason: number): void {
    if ((this.pauseReasons & reason) === 0) return;
    this.pauseReasons &= ~reason;
    if (this.pauseReasons === 0) this.conn.resume();
    else this.conn.pause((this.pauseReasons & STOP_READING) !== 0);
    if (this.inStream !== null) this.inStream.flush();
  }

  /** A message being streamed in ends with `err`: the connection failed or closed before its last frame. */
  private cutStream(err: Error): void {
    const stream = this.inStream;
    if (stream === null) return;
    this.inStream = null;
    failStream(stream, err);
  }

  /**
   * One fragment of sendStream(): resolves once what the connection has in flight (held sends not
   * counted: they wait for this stream, so counting them could never drain) is under the send mark;
   * rejects when the fragment cannot be sent.
   */
  private sendFragment(data: Buffer, fin: boolean, opts: SendOptions): Promise<void> {
    this.writePublished();
    return new Promise((resolve, reject) => {
      let failed = false;
      const onSent = (err?: Error): void => {
        if (err) {
          failed = true;
          reject(err);
        } else if (fin) {
          resolve();
        }
      };
      this.pumping = true;
      try {
        this.send(data, fin ? { ...opts, fin } : opts, onSent);
      } finally {
        this.pumping = false;
      }
      // Not open any more: onSent has the error.
      if (fin || failed || this.state !== OPEN) return;
      if (this.inFlight() < this.opts.sendHighWaterMark) {
        resolve();
        return;
      }
      const onClose = (): void => {
        this.fragmentWaiter = null;
        reject(new InvalidStateError('WebSocket closed while a stream was being sent'));
      };
      this.once('close', onClose);
      this.fragmentWaiter = () => {
        this.off('close', onClose);
        resolve();
      };
    });
  }

  /** Bytes handed to the connection and not yet to the kernel, held sends excepted. */
  private inFlight(): number {
    return this.transport.writableLength + this.conn.pendingSendBytes;
  }

  /** One sendStream() whose turn has come; releases what it held when it settles. */
  private runStream(source: StreamSource, options: SendStreamOptions): Promise<void> {
    const opts: SendOptions = { binary: options.binary ?? true, compress: options.compress, fin: false };
    const pump = this.state === OPEN
      ? pumpMessage(source, { fragment: (data, fin) => this.sendFragment(data, fin, opts) })
      : Promise.reject(new InvalidStateError(`WebSocket is not open (readyState ${this.state}); the stream was not sent`));
    return pump.then(
      () => this.releaseHeld(),
      (err: Error) => {
        if (this.state === OPEN) this.close(1011, 'the message source failed');
        this.releaseHeld();
        throw err;
      },
    );
  }

  /** After a sendStream(): the sends it held, in order, up to the next held stream, which takes over. */
  private releaseHeld(): void {
    const held = this.held!;
    this.held = null;
    this.heldBytes = 0;
    for (let i = 0; i < held.length; i++) {
      const item = held[i]!;
      if (typeof item === 'function') {
        this.held = held.slice(i + 1);
        for (const h of this.held) if (typeof h !== 'function') this.heldBytes += h[0].length;
        item();
        return;
      }
      this.send(item[0], { ...item[2], binary: item[1] }, item[3]);
    }
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

/** The core's options for an uncompressed send (shared: a send allocates no options object). */
const PLAIN_FIN = Object.freeze({ fin: true, compress: false });
const PLAIN_MORE = Object.freeze({ fin: false, compress: false });
const EMPTY = Buffer.alloc(0);

/** Connections constructed since the startup immediate was scheduled, in order. */
let opening: WebSocket[] = [];

function runOpening(): void {
  const list = opening;
  opening = [];
  for (let i = 0; i < list.length; i++) {
    try {
      list[i]!.started();
    } catch (err) {
      // A listener threw (an uncaught exception): the connections after it still start, in order.
      const rest = list.slice(i + 1);
      if (rest.length > 0) {
        if (opening.length === 0) setImmediate(runOpening);
        opening = rest.concat(opening);
      }
      throw err;
    }
  }
}

/** A send() made while a sendStream() runs: data, binary, options, callback. */
type HeldSend = [Buffer, boolean, SendOptions | undefined, ((err?: Error) => void) | undefined];

/** @internal A binary payload as a Buffer, without a copy (shared with lib/pubsub/). */
export function toBuffer(data: Buffer | ArrayBuffer | ArrayBufferView): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new InvalidArgumentError('send() takes a string, Buffer, ArrayBuffer or typed array');
}
