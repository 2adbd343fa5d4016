/**
 * The HTTP/2 side of {@link WebSocketServer} (RFC 8441): accepts extended
 * CONNECT streams on sessions of its own (standalone: TLS with ALPN `h2`, or
 * cleartext h2c with prior knowledge, beside HTTP/1.1 on the same port) or
 * on an application's `node:http2` server (attached), runs the same
 * negotiation as HTTP/1.1 and hands each accepted stream to a WebSocket.
 */
import type * as http2 from 'node:http2'; // the module is loaded on first use (startup RSS: bench/RESULTS.md, "Streams analysis")
import type { Socket } from 'node:net';
import { UpgradeRejection } from '../errors.js';
import { http2Rejection, http2Response, inputFromHttp2, isWebSocketConnect, readHttp2Upgrade } from '../handshake/http2.js';
import { negotiateUpgrade, type UpgradePolicy } from '../handshake/negotiate.js';
import { internalError } from '../handshake/reject.js';
import { buildUpgradeRequest, type UpgradeRequest } from '../handshake/request.js';
import { REJECT_LINGER, type HeadLimits } from '../http/limits.js';
import type { ResolvedOptions } from '../options.js';
import { Http2StreamTransport } from '../transport/http2.js';
import { WebSocket, type TopicHost } from '../websocket.js';
import type { SessionTerms } from '../handshake/session-terms.js';
import type { Clock } from '../timers.js';

/** Default cap on concurrent WebSocket streams per HTTP/2 session (RFC 9113 §6.5.2 recommends advertising at least 100). */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 100;

/** The 24 bytes an HTTP/2 client sends first (RFC 9113 §3.4): how h2c with prior knowledge is told from HTTP/1.1. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** What the acceptor needs from its server. */
export interface Http2Host {
  readonly policy: UpgradePolicy;
  readonly wsOptions: ResolvedOptions;
  readonly clients: Set<WebSocket>;
  /** The server's topics, for its connections' subscribe/publish. */
  readonly topics?: TopicHost;
  readonly handshakeTimeout: number;
  readonly maxConcurrentStreams: number;
  readonly limits: HeadLimits;
  readonly stopping: boolean;
  readonly clock: Clock | undefined;
  /** The 503 for a handshake over the server's `maxPendingHandshakes`, or null. */
  handshakeLimit(): UpgradeRejection | null;
  /** Emit 'connection' for an accepted WebSocket (after applying `authorize`'s terms). */
  announce(ws: WebSocket, req: UpgradeRequest, data: unknown, terms?: SessionTerms): void;
  /** Emit 'rejected'. */
  rejected(status: number, req: UpgradeRequest | undefined, rejection: UpgradeRejection): void;
}

/** A stream between its CONNECT and the 200 (or its refusal). */
interface StreamHandshake {
  stream: http2.ServerHttp2Stream;
  req: UpgradeRequest;
  timer: NodeJS.Timeout | null;
  done: boolean;
}

const ABANDONED = Symbol('abandoned');
const noop = (): void => {};

export class Http2Acceptor {
  private readonly host: Http2Host;
  /** WebSocket streams (in handshake or open) per session, for the cap. */
  private readonly counts = new Map<http2.Http2Session, number>();
  private readonly pending = new Set<StreamHandshake>();
  /** Standalone mode: the session server our sockets are handed to, and its live sessions. */
  private sessionServer: http2.Http2Server | null = null;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  /** Attached mode: the application's server and our listeners on it. */
  private attached: {
    server: http2.Http2Server | http2.Http2SecureServer;
    onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, raw: string[]) => void;
    onConnect: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
  } | null = null;

  constructor(host: Http2Host) {
    this.host = host;
  }

  /** The SETTINGS our sessions advertise. */
  settings(): http2.Settings {
    return {
      enableConnectProtocol: true,
      maxConcurrentStreams: this.host.maxConcurrentStreams,
      maxHeaderListSize: this.host.limits.maxHeadSize,
    };
  }

  /**
   * Standalone mode: run an HTTP/2 session on `socket` (TLS after ALPN chose
   * h2, or cleartext after the preface was seen, with the bytes read so far
   * unshifted). Every stream of these sessions is answered here.
   */
  takeSocket(socket: Socket): void {
    if (this.sessionServer === null) {
      const server = process.getBuiltinModule('node:http2').createServer({
        settings: this.settings(),
        // Pseudo-header fields count too: 4 of them in an extended CONNECT, plus :protocol.
        maxHeaderListPairs: this.host.limits.maxHeaders + 5,
      });
      server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) =>
        this.handleStream(stream, headers, raw));
      server.on('session', (session) => this.track(session));
      this.sessionServer = server;
    }
    this.sessionServer.emit('connection', socket);
  }

  private track(session: http2.ServerHttp2Session): void {
    this.sessions.add(session);
    session.on('error', noop);
    // A session that opens no WebSocket within the handshake deadline is closed (slowloris bound).
    session.setTimeout(this.host.handshakeTimeout, () => {
      if ((this.counts.get(session) ?? 0) === 0) session.destroy();
    });
    session.once('close', () => {
      this.sessions.delete(session);
      this.counts.delete(session);
    });
  }

  /**
   * Attached mode: answer the extended CONNECTs of an application's http2
   * server (enabling SETTINGS_ENABLE_CONNECT_PROTOCOL on it) and leave every
   * other request to the application.
   */
  attach(server: http2.Http2Server | http2.Http2SecureServer): void {
    server.updateSettings({ enableConnectProtocol: true });
    const onStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, raw: string[]): void => {
      if (isWebSocketConnect(headers)) this.handleStream(stream, headers, raw);
    };
    // node:http2's compatibility layer (an application with a 'request' listener) answers a
    // CONNECT with 405 unless someone listens to 'connect'. Ours ignores the streams we take
    // and, when no other listener exists, answers the rest as Node would have.
    const onConnect = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
      if (isWebSocketConnect(req.headers)) return;
      if (server.listenerCount('connect') === 1) {
        res.statusCode = 405;
        res.end();
      }
    };
    server.on('stream', onStream);
    server.on('connect', onConnect);
    this.attached = { server, onStream, onConnect };
  }

  /**
   * Take over one HTTP/2 stream carrying an extended CONNECT: validate,
   * negotiate and answer it with 200 (then it carries a WebSocket) or with
   * a refusal. `rawHeaders` is the 'stream' event's fourth argument.
   */
  handleStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders?: string[]): void {
    const session = stream.session;
    const socket = session?.socket as Socket | undefined;
    const h2in = inputFromHttp2(headers, rawHeaders, { remoteAddress: socket?.remoteAddress, remotePort: socket?.remotePort });
    const req = buildUpgradeRequest(h2in.input);
    const hs: StreamHandshake = { stream, req, timer: null, done: false };
    stream.on('error', noop);
    if (this.host.stopping) return this.reject(hs, new UpgradeRejection(503, 'The server is shutting down'));
    const full = this.host.handshakeLimit();
    if (full !== null) return this.reject(hs, full);
    if (session !== undefined) {
      const count = this.counts.get(session) ?? 0;
      if (count >= this.host.maxConcurrentStreams) {
        return this.reject(
          hs,
          new UpgradeRejection(503, `Too many WebSockets on this HTTP/2 connection (limit ${this.host.maxConcurrentStreams}); open another connection`),
        );
      }
      this.counts.set(session, count + 1);
      stream.once('close', () => {
        const n = (this.counts.get(session) ?? 1) - 1;
        if (n <= 0) this.counts.delete(session);
        else this.counts.set(session, n);
      });
    }
    this.pending.add(hs);
    hs.timer = setTimeout(() => {
      hs.timer = null;
      this.reject(hs, new UpgradeRejection(503, 'The upgrade could not be completed in time'));
    }, this.host.handshakeTimeout);
    stream.once('close', () => this.settle(hs));
    void this.upgrade(hs, h2in);
  }

  private async upgrade(hs: StreamHandshake, h2in: ReturnType<typeof inputFromHttp2>): Promise<void> {
    const host = this.host;
    let transform = null;
    try {
      const { request, key } = readHttp2Upgrade(h2in, hs.req, host.policy);
      const result = await negotiateUpgrade(request, host.policy, {
        afterAuthorize: () => {
          if (hs.done) throw ABANDONED;
          if (host.stopping) throw new UpgradeRejection(503, 'The server is shutting down');
        },
      });
      transform = result.transform;
      const responseHeaders = http2Response(result, key);
      this.settle(hs);
      const stream = hs.stream;
      if (stream.destroyed || stream.closed) throw ABANDONED;
      stream.respond(responseHeaders);
      const ws = new WebSocket({
        role: 'server',
        transport: new Http2StreamTransport(stream, 'server'),
        head: EMPTY,
        protocol: result.protocol ?? '',
        extensions: result.extensions,
        transform,
        options: host.wsOptions,
        registry: host.clients,
        topics: host.topics,
        httpVersion: '2',
        clock: host.clock,
      });
      transform = null;
      host.clients.add(ws);
      host.announce(ws, hs.req, result.data, result.terms);
    } catch (err) {
      transform?.dispose();
      if (err === ABANDONED || hs.done) return;
      this.reject(hs, err instanceof UpgradeRejection ? err : internalError(err));
    }
  }

  /**
   * Answer a refusal on the stream. The client may still be sending DATA: once
   * it has had time to read the answer, the stream is reset with NO_ERROR
   * (RFC 9113 §8.1: a complete response lets the server stop the request).
   */
  private reject(hs: StreamHandshake, rejection: UpgradeRejection): void {
    if (hs.done) return;
    this.settle(hs);
    const stream = hs.stream;
    if (!stream.destroyed && !stream.closed && !stream.headersSent) {
      const { headers, body } = http2Rejection(rejection);
      try {
        stream.respond(headers);
        stream.end(body);
        const timer = setTimeout(() => stream.close(process.getBuiltinModule('node:http2').constants.NGHTTP2_NO_ERROR), REJECT_LINGER);
        timer.unref();
        stream.once('close', () => clearTimeout(timer));
      } catch {
        stream.close(process.getBuiltinModule('node:http2').constants.NGHTTP2_INTERNAL_ERROR);
      }
    }
    this.host.rejected(rejection.status, hs.req, rejection);
  }

  private settle(hs: StreamHandshake): void {
    hs.done = true;
    if (hs.timer !== null) clearTimeout(hs.timer);
    hs.timer = null;
    this.pending.delete(hs);
  }

  /** Streams between their CONNECT and the answer (for the server's `maxPendingHandshakes`). */
  get pendingHandshakes(): number {
    return this.pending.size;
  }

  /** Draining: GOAWAY on our own sessions; their open streams go on, no new ones start. An application's sessions are left to it. */
  goaway(): void {
    for (const session of this.sessions) if (!session.closed && !session.destroyed) session.close();
  }

  /** Shutdown, first step: detach from an application's server and drop handshakes in progress. */
  stop(): void {
    if (this.attached !== null) {
      this.attached.server.off('stream', this.attached.onStream);
      this.attached.server.off('connect', this.attached.onConnect);
      this.attached = null;
    }
    for (const hs of [...this.pending]) {
      this.settle(hs);
      if (!hs.stream.destroyed) hs.stream.close(process.getBuiltinModule('node:http2').constants.NGHTTP2_REFUSED_STREAM);
    }
  }

  /**
   * Shutdown, last step (the WebSockets are closed): GOAWAY on our own
   * sessions, destroyed if still open after `timeoutMs`. An application's
   * sessions are left to it.
   */
  async closeSessions(timeoutMs: number): Promise<void> {
    const sessions = [...this.sessions];
    await Promise.all(
      sessions.map(
        (session) =>
          new Promise<void>((resolve) => {
            if (session.destroyed) return resolve();
            const timer = setTimeout(() => session.destroy(), timeoutMs);
            session.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            session.close();
          }),
      ),
    );
  }
}

const EMPTY = Buffer.alloc(0);
