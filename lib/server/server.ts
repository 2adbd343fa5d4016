import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type * as http2 from 'node:http2';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type * as tls from 'node:tls'; // the module is loaded on first use (startup RSS: bench/RESULTS.md, "Streams analysis")
import { InvalidArgumentError, InvalidStateError, UpgradeRejection } from '../errors.js';
import type { PerMessageDeflateOptions } from '../extensions/permessage-deflate.js';
import type { AuthorizeResult, Authorizer } from '../handshake/authorize.js';
import { http1Response, inputFromHead, inputFromIncoming, readHttp1Upgrade, type Http1Upgrade } from '../handshake/http1.js';
import { negotiateUpgrade, negotiateWithoutHook, resolveUpgradePolicy, type NegotiationResult, type UpgradePolicy } from '../handshake/negotiate.js';
import { HeadParseError, HeadParser, type HeadFailure, type RequestHead } from '../http/head-parser.js';
import { DEFAULT_HANDSHAKE_TIMEOUT, SERVER_HEAD_LIMITS, positiveInteger, resolveLimits, type HeadLimits } from '../http/limits.js';
import type { OriginPolicy } from '../handshake/origin.js';
import { HeadReader, type HeadSink } from '../http/read-head.js';
import { internalError, writeRejection } from '../handshake/reject.js';
import { buildUpgradeRequest, type UpgradeInput, type UpgradeRequest } from '../handshake/request.js';
import type { ProtocolPolicy } from '../handshake/subprotocol.js';
import { resolveOptions, type ResolvedOptions, type WebSocketOptions } from '../options.js';
import type { Broker } from '../pubsub/broker.js';
import { DEFAULT_MAX_CONCURRENT_STREAMS, H2_PREFACE, Http2Acceptor } from './h2.js';
import { ServerResume, type ResumableSession, type ResumeServerOptions } from './resume.js';
import { SocketTransport } from '../transport/socket.js';
import type { SessionTerms } from '../handshake/session-terms.js';
import { DeadlineSweep, sweepPeriod, type Clock, type Expiring } from '../timers.js';
import { applyTerms } from './terms.js';
import { resolveClose, resolveDrain, runDrain, type DrainOptions, type ServerCloseOptions } from './shutdown.js';
import { DEFAULT_MAX_PENDING_HANDSHAKES, tooManyHandshakes } from '../handshake/pending-limit.js';
import { WebSocket, type PublishOptions, type SendData } from '../websocket.js';
import type { BrokerStats } from '../pubsub/broker-link.js';
import type { BrokerError } from '../pubsub/broker-error.js';
import type { PubSubOptions } from '../pubsub/options.js';
import { ServerPubSub } from '../pubsub/pubsub.js';

export type { AuthorizeResult, Authorizer, OriginPolicy, ProtocolPolicy, UpgradeRequest };
export type { DrainOptions, ServerCloseOptions };

/** Options of {@link WebSocketServer}; the {@link WebSocketOptions} apply to every accepted connection. */
export interface ServerOptions extends WebSocketOptions, PubSubOptions {
  /** Standalone mode: port for `listen()` (default 0, an ephemeral port). */
  port?: number;
  /** Standalone mode: address for `listen()` (default: all interfaces). */
  host?: string;
  /** Standalone mode: serve wss:// with these TLS options (key, cert, ...). */
  tls?: tls.TlsOptions;
  /**
   * Attached mode: handle this http/https server's 'upgrade' events; an
   * `http2` server's RFC 8441 extended CONNECT streams too (its other
   * requests stay the application's; SETTINGS_ENABLE_CONNECT_PROTOCOL is
   * turned on for its new sessions).
   */
  server?: HttpServer | http2.Http2Server | http2.Http2SecureServer;
  /**
   * Standalone mode: also accept WebSockets over HTTP/2 (RFC 8441) on the same
   * port: with `tls`, ALPN offers `h2` and `http/1.1`; without, HTTP/2 with
   * prior knowledge (h2c) is told from HTTP/1.1 by its preface. Default false.
   */
  http2?: boolean;
  /** Most WebSocket streams at once on one HTTP/2 session (advertised in SETTINGS when standalone); more get 503. Default 100. */
  maxConcurrentStreams?: number;
  /** Accepted paths, exact match on the path without query (default: any). Others get 404. */
  path?: string | string[];
  /** Origins allowed to connect; others get 403. See {@link OriginPolicy}. */
  allowedOrigins?: OriginPolicy;
  /** Async gate run after validation and the Origin check; see {@link AuthorizeResult}. */
  authorize?: Authorizer;
  /** Subprotocols the server speaks; see {@link ProtocolPolicy}. */
  protocols?: ProtocolPolicy;
  /** Negotiate permessage-deflate (RFC 7692). Default false. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Standalone mode: largest request head in bytes (default 8 KiB); larger -> 431. */
  maxHeadSize?: number;
  /** Standalone mode: most header fields (default 64); more -> 431. */
  maxHeaders?: number;
  /** Standalone mode: longest header line in bytes (default 4 KiB); longer -> 431 (414 for the request line). */
  maxHeaderLineLength?: number;
  /** Milliseconds from accepting the socket to the 101 (default 10 000): 408 if the head is still incomplete, 503 if `authorize` is still pending. HTTP/1.1 deadlines are checked on one shared interval: a handshake is refused at most an eighth of this (at most 1 s) after it, never before. */
  handshakeTimeout?: number;
  /**
   * Most handshakes in flight at once (HTTP/1.1 sockets between accept and
   * 101, HTTP/2 streams between CONNECT and 200); more are refused with 503
   * at once. Default 4096.
   */
  maxPendingHandshakes?: number;
  /** The clock of connection deadlines, session expiry and drain batches (tests pass a manual one). Default: the process clock. */
  clock?: Clock;
  /** Resumable sessions for clients that offer them (`true`, or window and buffer settings); see docs/resume.md. Default off. */
  resume?: boolean | ResumeServerOptions;
  /** Standalone mode: listen with SO_REUSEPORT, the socket this process's own (also in a cluster worker), so that several processes share the port and the kernel spreads connections; Node >= 22.12 on Linux (older Node ignores it). */
  reusePort?: boolean;
}

/** The events of a {@link WebSocketServer} and their arguments. */
export interface WebSocketServerEvents {
  /** An upgrade succeeded: the open connection, the request as `authorize` saw it, and `authorize`'s `data`. */
  connection: [ws: WebSocket, req: UpgradeRequest, data: unknown];
  /** With `resume`: a new resumable session (its connections do not emit 'connection'). */
  session: [session: ResumableSession, req: UpgradeRequest, data: unknown];
  /** An upgrade was refused with `status`; `reason.cause` holds a hook's exception for 500s. Status 101: accepted, then closed at once (accept-then-close, or an `expiresAt` already past). */
  rejected: [status: number, req: UpgradeRequest | undefined, reason: UpgradeRejection];
  listening: [];
  /** Listen-socket errors after `listen()` resolved, and exceptions from 'connection' listeners. */
  error: [err: Error];
  close: [];
  /** A subscriber missed a published message (`backpressurePolicy` 'drop'; see `ws.droppedMessages`). */
  drop: [ws: WebSocket, topic: string];
  /** A broker publish, subscribe or unsubscribe failed (never thrown, never an unhandled rejection). */
  brokerError: [err: BrokerError];
}

/** What a {@link Handshake} reports to its server (one object per server, not closures per handshake). */
interface HandshakeOwner {
  headRead(hs: Handshake, err: Error | null, head?: RequestHead, rest?: Buffer): void;
  timeout(hs: Handshake): void;
}

/** A socket between accept and 101 (or refused and lingering). */
class Handshake implements Expiring, HeadSink<RequestHead> {
  headComplete = false;
  done = false;
  reader: HeadReader<'request'> | null = null;
  req: UpgradeRequest | undefined = undefined;

  constructor(
    readonly socket: Duplex,
    private readonly owner: HandshakeOwner,
    /** Date.now() ms by which the 101 must be written. */
    readonly expiresAt: number,
  ) {}

  /** @internal The head reader's outcome. */
  onHead(err: Error | null, head?: RequestHead, rest?: Buffer): void {
    this.reader = null;
    this.owner.headRead(this, err, head, rest);
  }

  /** @internal The deadline passed. */
  expire(): void {
    this.owner.timeout(this);
  }
}

/** Thrown from `afterAuthorize` when the handshake was dropped meanwhile; `upgrade()` then returns without an answer. */
const ABANDONED = Symbol('abandoned');

const HEAD_STATUS: Record<HeadFailure, number> = {
  'malformed': 400,
  'head-too-large': 431,
  'too-many-headers': 431,
  'line-too-long': 431,
  'start-line-too-long': 414,
};

/**
 * Accepts WebSocket upgrades, either standalone (`listen()` on net/tls, parsing
 * requests itself under hard limits) or attached to an http/https server
 * (option `server`, or call `handleUpgrade` from your own 'upgrade' listener).
 * Both modes run the same validation, Origin policy, `authorize` hook and
 * negotiation; refused requests get a complete HTTP response and are closed.
 *
 * Events: 'connection' (ws, req: UpgradeRequest, data: unknown from authorize),
 * 'rejected' (status, req | undefined, reason: UpgradeRejection — `cause` holds
 * a hook's exception for 500s), 'listening', 'error' (listen socket errors
 * after `listen()` resolved), 'close'.
 */
export class WebSocketServer extends EventEmitter<WebSocketServerEvents> {
  /** The open connections; a connection leaves the set on its 'close' event. */
  readonly clients = new Set<WebSocket>();
  private readonly options: ServerOptions;
  /** The per-connection options, resolved once for every connection of this server. */
  private readonly wsOptions: ResolvedOptions;
  private readonly limits: HeadLimits;
  private readonly handshakeTimeout: number;
  /** Path, Origin, authorize, subprotocol and extension settings, resolved once. */
  private readonly policy: UpgradePolicy;
  private readonly pending = new Map<Duplex, Handshake>();
  /** Handshake deadlines (accept to 101) on one interval per server. */
  private readonly deadlines: DeadlineSweep<Handshake>;
  /** The handshakes' callbacks and socket listeners: one set per server, found through `pending`. */
  private readonly hsOwner: HandshakeOwner;
  private readonly onHsError: (this: Duplex) => void;
  private readonly onHsClose: (this: Duplex) => void;
  private readonly rawSockets = new Set<net.Socket>();
  /** wss: accept time of connections still in their TLS handshake, by peer address and port. */
  private readonly tlsAccepted = new Map<string, number>();
  private listener: net.Server | null = null;
  private readonly httpServer: HttpServer | null;
  private readonly onHttpUpgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | null = null;
  private closing: Promise<void> | null = null;
  private stopping = false;
  /** RFC 8441 streams: standalone with `http2`, or attached to an http2 server; null otherwise. */
  private h2: Http2Acceptor | null = null;
  private readonly maxPendingHandshakes: number;
  /** HTTP/1.1 handshakes not yet settled (accepted, refused or dropped). */
  private inFlight = 0;
  private draining: Promise<void> | null = null;
  /** Resumable sessions, null without the `resume` option. */
  private readonly resume: ServerResume | null;
  /** Topics, publish and the broker (lib/pubsub/). */
  private readonly pubsub: ServerPubSub;
  private brokerWarned = false;

  constructor(options: ServerOptions = {}) {
    super();
    this.options = options;
    this.wsOptions = resolveOptions(options);
    this.limits = resolveLimits(options, SERVER_HEAD_LIMITS);
    this.handshakeTimeout =
      options.handshakeTimeout === undefined ? DEFAULT_HANDSHAKE_TIMEOUT : positiveInteger('handshakeTimeout', options.handshakeTimeout);
    this.deadlines = new DeadlineSweep(sweepPeriod(this.handshakeTimeout));
    const pending = this.pending;
    this.hsOwner = {
      headRead: (hs, err, head, rest) => this.headRead(hs, err, head, rest),
      timeout: (hs) => this.timeout(hs),
    };
    const server = this;
    this.onHsError = function (this: Duplex): void {
      const hs = pending.get(this);
      if (hs !== undefined) server.drop(hs);
    };
    this.onHsClose = function (this: Duplex): void {
      const hs = pending.get(this);
      if (hs === undefined) return;
      server.settle(hs);
      pending.delete(this);
    };
    this.resume = ServerResume.create(options.resume, (session, req, data) => this.emit('session', session, req, data));
    const negotiated = this.resume === null ? options : { ...options, authorize: this.resume.wrap(options.authorize) };
    this.policy = resolveUpgradePolicy(negotiated, this.wsOptions.maxPayload);
    this.maxPendingHandshakes =
      options.maxPendingHandshakes === undefined ? DEFAULT_MAX_PENDING_HANDSHAKES : positiveInteger('maxPendingHandshakes', options.maxPendingHandshakes);
    this.pubsub = new ServerPubSub(options, this.policy.deflate, {
      drop: (ws, topic) => this.emit('drop', ws, topic),
      brokerError: (err) => this.onBrokerError(err),
    });
    const attachedH2 = options.server !== undefined && isHttp2Server(options.server);
    if (options.http2 === true || attachedH2) this.h2 = this.createHttp2Acceptor();
    this.httpServer = (options.server ?? null) as HttpServer | null;
    if (this.httpServer !== null) {
      if (options.port !== undefined || options.tls !== undefined || options.http2 !== undefined) {
        throw new InvalidArgumentError('Options server and port/tls/http2 are exclusive: attach to a server or listen standalone');
      }
      this.onHttpUpgrade = (req, socket, head) => this.handleUpgrade(req, socket, head);
      // An http2 server with allowHTTP1 emits 'upgrade' for its HTTP/1.1 connections too.
      this.httpServer.on('upgrade', this.onHttpUpgrade);
      if (attachedH2) this.h2!.attach(options.server as http2.Http2Server);
    }
  }

  private createHttp2Acceptor(): Http2Acceptor {
    const max = this.options.maxConcurrentStreams;
    const server = this;
    return new Http2Acceptor({
      policy: this.policy,
      wsOptions: this.wsOptions,
      clients: this.clients,
      topics: this.pubsub.topics,
      handshakeTimeout: this.handshakeTimeout,
      maxConcurrentStreams: max === undefined ? DEFAULT_MAX_CONCURRENT_STREAMS : positiveInteger('maxConcurrentStreams', max),
      limits: this.limits,
      clock: this.options.clock,
      get stopping() {
        return server.stopping;
      },
      handshakeLimit: () => this.handshakeLimit(),
      announce: (ws, req, data, terms) => this.announce(ws, req, data, terms),
      rejected: (status, req, rejection) => this.emit('rejected', status, req, rejection),
    });
  }

  /** Standalone mode: start listening on `port`/`host` (plain or TLS). Resolves with the bound address. */
  async listen(): Promise<net.AddressInfo> {
    if (this.httpServer !== null) throw new InvalidStateError('listen() is for standalone mode; this server is attached to an http server');
    if (this.stopping) throw new InvalidStateError('The server is closed');
    if (this.listener !== null) throw new InvalidStateError('listen() was already called');
    const tlsOptions = this.options.tls;
    const h2 = this.h2;
    const server: net.Server =
      tlsOptions === undefined
        // Nagle off as each connection is accepted, on the handle (the transport's own setNoDelay is then a no-op).
        ? net.createServer({ noDelay: true })
        : process.getBuiltinModule('node:tls').createServer({
          handshakeTimeout: this.handshakeTimeout,
          ...tlsOptions,
          ...(h2 === null ? {} : { ALPNProtocols: ['h2', 'http/1.1'] }),
        });
    this.listener = server;
    const { rawSockets, tlsAccepted } = this;
    // One listener for every socket ('close' fires once): no closure or once-wrapper per connection.
    const onRawClose = function (this: net.Socket): void {
      rawSockets.delete(this);
      if (tlsOptions !== undefined) tlsAccepted.delete(peerKey(this));
    };
    server.on('connection', (socket: net.Socket) => {
      rawSockets.add(socket);
      if (tlsOptions !== undefined) tlsAccepted.set(peerKey(socket), Date.now());
      socket.on('close', onRawClose);
    });
    server.on(tlsOptions === undefined ? 'connection' : 'secureConnection', (socket: net.Socket) => {
      if (h2 === null) this.onSocket(socket);
      else if (tlsOptions !== undefined) {
        if ((socket as tls.TLSSocket).alpnProtocol === 'h2') h2.takeSocket(socket);
        else this.onSocket(socket);
      } else {
        this.sniffPreface(socket, (isH2) => (isH2 ? h2.takeSocket(socket) : this.onSocket(socket)));
      }
    });
    // Node leaves a socket open after a TLS handshake timeout unless someone destroys it here.
    if (tlsOptions !== undefined) server.on('tlsClientError', (_err: Error, socket: tls.TLSSocket) => socket.destroy());
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        const reuse = this.options.reusePort === true ? { reusePort: true, exclusive: true } : {};
        server.listen({ port: this.options.port ?? 0, host: this.options.host, ...reuse }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      // EADDRINUSE and the like: allow another listen() attempt.
      this.listener = null;
      throw err;
    }
    server.on('error', (err) => this.emit('error', err));
    this.emit('listening');
    return this.address() as net.AddressInfo;
  }

  /**
   * Send a message to every subscriber of `topic` on this server (framed once for all of them)
   * and, with a `broker`, hand it to the other servers. Returns the number of local connections
   * it was written to. Broker failures are reported as `brokerError`, never thrown.
   */
  publish(topic: string, data: SendData, options?: PublishOptions): number {
    return this.pubsub.publish(topic, data, options);
  }

  /** How many connections of this server are subscribed to `topic`. */
  subscribers(topic: string): number {
    return this.pubsub.topics.count(topic);
  }

  /** Counters of the broker traffic (published, publishFailed, received, own, malformed), or null without a broker. */
  get brokerStats(): Readonly<BrokerStats> | null {
    return this.pubsub.brokerStats;
  }

  /** @internal Topics, shared compression and broker link (for tests). */
  get pubsubState(): ServerPubSub {
    return this.pubsub;
  }

  /** With no `brokerError` listener a failure is a process warning (once), not a crash. */
  private onBrokerError(err: BrokerError): void {
    if (this.listenerCount('brokerError') > 0) this.emit('brokerError', err);
    else if (!this.brokerWarned) {
      this.brokerWarned = true;
      process.emitWarning(`${err.message} (listen for the server's 'brokerError' event to handle these; further ones are not reported as warnings)`, { code: err.code });
    }
  }

  /** Sockets accepted but not yet upgraded, or refused and still closing (for metrics). */
  get pendingHandshakes(): number {
    return this.pending.size;
  }

  /** The bound address (standalone) or the attached server's, null when not listening. */
  address(): net.AddressInfo | null {
    const addr = (this.listener ?? this.httpServer)?.address();
    return addr !== null && typeof addr === 'object' ? addr : null;
  }

  /**
   * Attached mode: take over an upgrade request from node:http's 'upgrade'
   * event. Validates, authorizes and answers it (101 or an error response);
   * `head` (bytes that followed the request) goes to the WebSocket.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const input = inputFromIncoming(req);
    if (this.stopping) {
      const rejection = new UpgradeRejection(503, 'The server is shutting down');
      writeRejection(socket, rejection);
      this.emit('rejected', rejection.status, buildUpgradeRequest(input), rejection);
      return;
    }
    const full = this.handshakeLimit();
    if (full !== null) {
      writeRejection(socket, full);
      this.emit('rejected', full.status, buildUpgradeRequest(input), full);
      return;
    }
    const hs = this.begin(socket);
    hs.headComplete = true;
    socket.pause();
    this.upgrade(hs, input, head);
  }

  /**
   * Take over an RFC 8441 extended CONNECT from your own `http2` server's
   * 'stream' listener (instead of the `server` option): validates, authorizes
   * and answers it (200, then the stream carries the WebSocket, or a refusal).
   * Pass the event's fourth argument (`rawHeaders`) to keep repeated fields.
   */
  handleStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders?: string[]): void {
    this.h2 ??= this.createHttp2Acceptor();
    this.h2.handleStream(stream, headers, rawHeaders);
  }

  /**
   * Cleartext standalone with `http2`: read until the first bytes either match
   * the HTTP/2 preface or cannot, then put them back for whoever reads next.
   * A peer that sends neither within the handshake deadline is dropped.
   */
  private sniffPreface(socket: net.Socket, decide: (isH2: boolean) => void): void {
    let seen: Buffer = EMPTY;
    const timer = setTimeout(() => socket.destroy(), this.handshakeTimeout);
    const finish = (isH2: boolean): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (seen.length > 0) socket.unshift(seen);
      decide(isH2);
    };
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, H2_PREFACE.length);
      if (!seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) finish(false);
      else if (n === H2_PREFACE.length) finish(true);
    };
    const onClose = (): void => clearTimeout(timer);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.on('error', noop);
  }

  /**
   * Stop accepting, send 1001 Going Away to every client, wait up to
   * `timeoutMs` (default 5000) for their closing handshakes, then terminate the
   * rest. Handshakes in progress are dropped. Resolves once everything is closed;
   * later calls return the same promise. With options, `code`, `reason` and
   * `retryAfter` choose the close frame (e.g. `{ code: 1013, retryAfter: 30 }`
   * sends 1013 'retry-after=30'); see {@link ServerCloseOptions}. Throws
   * InvalidArgumentError on a code or reason `ws.close()` would refuse.
   */
  close(options: number | ServerCloseOptions = 5000): Promise<void> {
    if (this.closing === null) {
      const how = resolveClose(options);
      this.stopping = true;
      this.resume?.stop(how);
      this.closing = this.shutdown(how.timeout, how.code, how.reason);
    }
    return this.closing;
  }

  /**
   * Drain for a deploy: stop accepting (the standalone listener closes, so
   * new connections go to other servers on the port; upgrades still reaching
   * this server get 503; our HTTP/2 sessions get GOAWAY), then close the open
   * connections with `code` (default 1012) in evenly spaced batches over
   * `over` ms, so that their clients reconnect gradually. Connections that do
   * not answer are terminated after `closeTimeout`. Resolves once all are
   * gone and the server is closed (`close` emitted). `close()` during a drain
   * closes the rest at once. Throws InvalidArgumentError on bad options.
   */
  drain(options: DrainOptions): Promise<void> {
    if (this.closing !== null) return this.closing;
    if (this.draining === null) {
      const how = resolveDrain(options);
      this.stopping = true;
      this.resume?.stop();
      this.draining = this.runDrain(how.over, how.code, how.reason);
    }
    return this.draining;
  }

  private async runDrain(over: number, code: number, reason: string): Promise<void> {
    const listener = this.listener;
    if (listener !== null && listener.listening) listener.close();
    this.h2?.goaway();
    const clients = [...this.clients];
    const closed = Promise.all(clients.map(closeEvent));
    const cancel = runDrain(clients, over, (ws) => {
      if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
    }, this.options.clock);
    await closed;
    cancel();
    await this.close({ code, reason, timeout: 0 });
  }

  private async shutdown(timeoutMs: number, code = 1001, reason = 'Server shutting down'): Promise<void> {
    if (this.httpServer !== null && this.onHttpUpgrade !== null) this.httpServer.off('upgrade', this.onHttpUpgrade);
    const listener = this.listener;
    const listenerClosed =
      listener === null || !listener.listening ? Promise.resolve() : new Promise<void>((resolve) => listener.close(() => resolve()));
    for (const hs of [...this.pending.values()]) this.drop(hs);
    this.h2?.stop();
    const clients = [...this.clients];
    const closed = Promise.all(clients.map(closeEvent));
    for (const ws of clients) {
      try {
        ws.close(code, reason);
      } catch {
        // Already closing: its 'close' event comes anyway.
      }
    }
    await raceTimeout(closed, timeoutMs);
    for (const ws of this.clients) ws.terminate();
    // terminate() destroys the socket; 'close' follows within a tick or two.
    await raceTimeout(closed, 1000);
    await this.h2?.closeSessions(1000);
    for (const socket of this.rawSockets) socket.destroy();
    await listenerClosed;
    this.pubsub.dispose();
    this.emit('close');
  }

  private onSocket(socket: net.Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const full = this.handshakeLimit();
    if (full !== null) {
      writeRejection(socket, full);
      this.emit('rejected', full.status, undefined, full);
      return;
    }
    const hs = this.begin(socket);
    hs.reader = new HeadReader(socket, new HeadParser('request', this.limits), hs);
  }

  private headRead(hs: Handshake, err: Error | null, head?: RequestHead, rest?: Buffer): void {
    if (err !== null) {
      if (err instanceof HeadParseError) this.reject(hs, new UpgradeRejection(HEAD_STATUS[err.reason], `Bad request head: ${err.message}`));
      else this.drop(hs);
      return;
    }
    hs.headComplete = true;
    this.upgrade(hs, inputFromHead(head!, hs.socket as net.Socket), rest!);
  }

  private begin(socket: Duplex): Handshake {
    // wss: the TLS handshake already used part of the deadline, which runs from accept to 101.
    let expiresAt: number | undefined;
    if (this.tlsAccepted.size > 0) {
      const key = peerKey(socket);
      const acceptedAt = this.tlsAccepted.get(key);
      if (acceptedAt !== undefined) {
        this.tlsAccepted.delete(key);
        expiresAt = acceptedAt + this.handshakeTimeout;
      }
    }
    const hs = new Handshake(socket, this.hsOwner, expiresAt ?? Date.now() + this.handshakeTimeout);
    socket.on('error', this.onHsError);
    socket.on('close', this.onHsClose);
    this.inFlight++;
    this.deadlines.add(hs);
    this.pending.set(socket, hs);
    return hs;
  }

  private timeout(hs: Handshake): void {
    if (hs.done) return;
    this.reject(
      hs,
      hs.headComplete
        ? new UpgradeRejection(503, 'The upgrade could not be completed in time')
        : new UpgradeRejection(408, 'The request head did not arrive in time'),
    );
  }

  /** Validate and negotiate; without an `authorize` hook all of it runs in this call (no promise per upgrade). */
  private upgrade(hs: Handshake, input: UpgradeInput, head: Buffer): void {
    const req = buildUpgradeRequest(input);
    hs.req = req;
    let http1: Http1Upgrade;
    let result: NegotiationResult | null = null;
    try {
      http1 = readHttp1Upgrade(input, req, this.policy);
      if (this.policy.authorize === undefined) result = negotiateWithoutHook(http1.request, this.policy);
    } catch (err) {
      this.refused(hs, err);
      return;
    }
    if (result !== null) this.accept(hs, req, http1.key, result, head);
    else void this.upgradeAsync(hs, req, http1, head);
  }

  private async upgradeAsync(hs: Handshake, req: UpgradeRequest, http1: Http1Upgrade, head: Buffer): Promise<void> {
    let result: NegotiationResult;
    try {
      result = await negotiateUpgrade(http1.request, this.policy, {
        afterAuthorize: () => {
          if (hs.done) throw ABANDONED;
          if (this.stopping) throw new UpgradeRejection(503, 'The server is shutting down');
        },
      });
    } catch (err) {
      this.refused(hs, err);
      return;
    }
    this.accept(hs, req, http1.key, result, head);
  }

  /** Write the 101 and hand the socket to a WebSocket. */
  private accept(hs: Handshake, req: UpgradeRequest, key: string, result: NegotiationResult, head: Buffer): void {
    let transform = result.transform;
    try {
      const response = http1Response(key, result);
      this.settle(hs);
      this.pending.delete(hs.socket);
      hs.socket.off('error', this.onHsError);
      hs.socket.off('close', this.onHsClose);
      hs.socket.write(response);
      const ws = new WebSocket({
        role: 'server',
        transport: new SocketTransport(hs.socket as net.Socket),
        head,
        protocol: result.protocol ?? '',
        extensions: result.extensions,
        transform,
        options: this.wsOptions,
        registry: this.clients,
        clock: this.options.clock,
        topics: this.pubsub.topics,
      });
      transform = null;
      this.clients.add(ws);
      this.announce(ws, req, result.data, result.terms);
    } catch (err) {
      transform?.dispose();
      this.refused(hs, err);
    }
  }

  /** A validation, negotiation or hook failure: answer it unless the handshake was dropped meanwhile. */
  private refused(hs: Handshake, err: unknown): void {
    if (hs.done) return;
    this.reject(hs, err instanceof UpgradeRejection ? err : internalError(err));
  }

  /**
   * Emit 'connection'. An exception from the application's listener is its own
   * bug, not a handshake failure: the connection is closed with 1011 and the
   * exception goes to the server's 'error' listeners, or, with none, is thrown
   * as an uncaught exception the way an EventEmitter listener's would be.
   */
  private announce(ws: WebSocket, req: UpgradeRequest, data: unknown, terms?: SessionTerms): void {
    const closed = applyTerms(ws, terms);
    if (closed !== null) {
      this.emit('rejected', closed.status, req, closed);
      return;
    }
    try {
      if (this.resume?.take(ws, req, data) !== true) this.emit('connection', ws, req, data);
    } catch (err) {
      if (ws.readyState === WebSocket.OPEN) ws.close(1011, 'server error');
      if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(String(err), { cause: err }));
      else process.nextTick(() => { throw err; });
    }
  }

  /** The 503 for a handshake over `maxPendingHandshakes`, or null while there is room. */
  private handshakeLimit(): UpgradeRejection | null {
    const n = this.inFlight + (this.h2?.pendingHandshakes ?? 0);
    return n >= this.maxPendingHandshakes ? tooManyHandshakes(this.maxPendingHandshakes) : null;
  }

  private reject(hs: Handshake, rejection: UpgradeRejection): void {
    if (hs.done) return;
    this.settle(hs);
    writeRejection(hs.socket, rejection);
    this.emit('rejected', rejection.status, hs.req, rejection);
  }

  /** Drop a handshake without an answer (peer gone, socket error, shutdown). */
  private drop(hs: Handshake): void {
    this.settle(hs);
    hs.socket.destroy();
  }

  private settle(hs: Handshake): void {
    if (!hs.done) this.inFlight--;
    hs.done = true;
    this.deadlines.delete(hs);
    hs.reader?.stop();
    hs.reader = null;
  }
}

const EMPTY = Buffer.alloc(0);
function noop(): void {}

/** An http2 server (plain or secure) rather than an http/https one. */
function isHttp2Server(server: object): server is http2.Http2Server {
  return typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
}

function closeEvent(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => ws.once('close', () => resolve()));
}

async function raceTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Address and port of the peer: unique among a listener's live connections, and the same on a TLS socket as on the TCP socket under it. */
function peerKey(socket: Duplex): string {
  const s = socket as net.Socket;
  return `${s.remoteAddress}|${s.remotePort}`;
}
