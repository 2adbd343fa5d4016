/**
 * The server's side of resumable sessions (`resume` option; wire format in
 * docs/resume.md). It wraps `authorize` so the 101 carries the session
 * header, and takes resume connections away from the 'connection' event: the
 * application gets one {@link ResumableSession} per session ('session' event
 * of the server) which outlives its transports.
 */
import { EventEmitter } from 'node:events';
import { InvalidArgumentError, UpgradeRejection } from '../errors.js';
import type { Authorizer } from '../handshake/authorize.js';
import type { UpgradeRequest } from '../handshake/request.js';
import { ResumeLink, closeIfOpen } from '../resume/link.js';
import { DEFAULT_RESUME_BUFFER, ResumeState, outgoing } from '../resume/state.js';
import { RESUME_HEADER, formatAnswer, newSessionId, parseOffer } from '../resume/wire.js';
import { after, systemClock, type Clock } from '../timers.js';
import type { SendData, WebSocket } from '../websocket.js';

/** How long a server keeps a session without a transport, by default (ms). */
export const DEFAULT_RESUME_WINDOW = 30_000;
/**
 * How many sessions without a transport a server keeps, by default: each holds
 * up to `maxBuffer` (1 MiB by default), so the bound of their memory is
 * 1000 x 1 MiB; past it the session that has waited longest is dropped.
 */
export const DEFAULT_MAX_DETACHED_SESSIONS = 1000;

/** `resume` option of the server: `true` for the defaults. */
export interface ResumeServerOptions {
  /** ms a session waits for its client to come back after its transport dropped. Default 30 000. */
  window?: number;
  /** Bytes of unacknowledged messages kept per session; past it the session ends. Default 1 MiB. */
  maxBuffer?: number;
  /** Most sessions waiting for their client at once; past it the one that has waited longest ends ('evicted'). Default 1000. */
  maxSessions?: number;
  /** Time source of the window (tests pass a manual clock). */
  clock?: Clock;
}

/**
 * Why a session ended: a normal close (1000) by either side, its window passed, its buffer
 * overflowed, the peer broke the protocol, it was dropped for newer detached sessions
 * (`maxSessions`), or the server closed or drained (`server.close()` / `server.drain()`).
 */
export type SessionEndCause = 'closed' | 'expired' | 'overflow' | 'protocol' | 'evicted' | 'shutdown';

export interface ResumableSessionEvents {
  /** A message of the client, exactly once and in order over every transport. */
  message: [data: Buffer, isBinary: boolean];
  /** The client came back within the window on a new transport; what it missed was sent again. */
  resume: [ws: WebSocket];
  /** The transport dropped (not a normal close): the session waits for the client for the window. */
  disconnect: [code: number, reason: string];
  /** The session is over; messages sent afterwards are dropped. */
  close: [cause: SessionEndCause];
}

/** One resumable session on the server, stable across the client's reconnects. */
export class ResumableSession extends EventEmitter<ResumableSessionEvents> {
  private link: ResumeLink | null = null;
  private cancelWindow: (() => void) | null = null;
  private ended = false;
  /** @internal The number of the latest claim of this session (a resume request); only that one may attach. */
  claims = 0;
  /** @internal */
  readonly state: ResumeState;

  /** @internal */
  constructor(
    /** The session id (128 random bits, base64url): a bearer secret of the client. */
    readonly id: string,
    private readonly owner: ServerResume,
  ) {
    super();
    this.state = new ResumeState(owner.maxBuffer);
  }

  /** The current transport, null while the client is away. */
  get ws(): WebSocket | null {
    return this.link?.ws ?? null;
  }

  /** Whether the session is over. */
  get closed(): boolean {
    return this.ended;
  }

  /**
   * Send a message (numbered, kept until the client acknowledges it, sent
   * again after a reconnect). While the client is away it waits in the
   * buffer. False when the session is over or this message overflowed the
   * buffer (which ends the session).
   */
  send(data: SendData, options: { binary?: boolean } = {}): boolean {
    if (this.ended) return false;
    const m = outgoing(data, options.binary);
    if (this.link !== null) return this.link.send(m);
    if (this.state.record(m)) return true;
    this.end('overflow');
    return false;
  }

  /** End the session: close the transport with `code` (default 1000) and forget it. */
  close(code = 1000, reason = ''): void {
    this.closeWith('closed', code, reason);
  }

  /** @internal End with `cause`, closing the transport (if any) with `code`. */
  closeWith(cause: SessionEndCause, code: number, reason: string): void {
    const ws = this.ws;
    this.end(cause);
    if (ws !== null) closeIfOpen(ws, code, reason);
  }

  /** @internal Use `ws` from now on; the client has received `peerReceived` messages. */
  attach(ws: WebSocket, peerReceived: number): void {
    this.cancelWindow?.();
    this.cancelWindow = null;
    this.owner.attached(this);
    const link = new ResumeLink(this.state, ws, {
      message: (data, isBinary) => this.emit('message', data, isBinary),
      overflow: () => this.end('overflow'),
      failed: () => this.end('protocol'),
    }, this.owner.clock);
    this.link = link;
    ws.once('close', (code, reason) => {
      if (this.link !== link) return;
      this.suspend();
      if (code === 1000) this.end('closed');
      else if (this.owner.stopping) this.end('shutdown');
      else if (!this.ended) this.emit('disconnect', code, reason);
    });
    link.start(peerReceived);
  }

  /** @internal Stop using the current transport (dropped, or a reconnect takes over) and start the window. */
  suspend(): void {
    const link = this.link;
    this.link = null;
    if (link !== null) {
      link.detach();
      if (link.ws.readyState !== 3) link.ws.terminate();
    }
    if (!this.ended && this.cancelWindow === null) {
      this.cancelWindow = after(this.owner.clock, this.owner.window, () => this.end('expired'));
      this.owner.detached(this);
    }
  }

  /** @internal */
  end(cause: SessionEndCause): void {
    if (this.ended) return;
    this.ended = true;
    this.cancelWindow?.();
    this.cancelWindow = null;
    this.link?.detach();
    this.owner.forget(this);
    this.emit('close', cause);
  }
}

/** What the wrapped `authorize` passes to `take` through the connection's data. */
class Ticket {
  constructor(
    readonly data: unknown,
    readonly id: string,
    readonly session: ResumableSession | null,
    readonly peerReceived: number,
    /** Which claim of `session` this is (ResumableSession.claims when it was answered). */
    readonly claim = 0,
  ) {}
}

/** The sessions of one server. */
export class ServerResume {
  readonly sessions = new Map<string, ResumableSession>();
  readonly window: number;
  readonly maxBuffer: number;
  readonly maxSessions: number;
  readonly clock: Clock;
  /** Set by the server's close() or drain(): a transport that drops ends its session instead of waiting. */
  stopping = false;
  /** Sessions without a transport, the longest waiting first (a Map keeps insertion order). */
  private readonly waiting = new Map<ResumableSession, true>();

  private constructor(o: ResumeServerOptions, private readonly announce: (s: ResumableSession, req: UpgradeRequest, data: unknown) => void) {
    this.window = o.window ?? DEFAULT_RESUME_WINDOW;
    this.maxBuffer = o.maxBuffer ?? DEFAULT_RESUME_BUFFER;
    const max = o.maxSessions ?? DEFAULT_MAX_DETACHED_SESSIONS;
    if (!Number.isSafeInteger(max) || max < 1) throw new InvalidArgumentError(`resume.maxSessions must be an integer >= 1 (got ${String(max)})`);
    this.maxSessions = max;
    this.clock = o.clock ?? systemClock;
  }

  /** The sessions for a server's `resume` option, null when it is off. */
  static create(
    option: boolean | ResumeServerOptions | undefined,
    announce: (s: ResumableSession, req: UpgradeRequest, data: unknown) => void,
  ): ServerResume | null {
    if (option === undefined || option === false) return null;
    return new ServerResume(option === true ? {} : option, announce);
  }

  /**
   * The application's `authorize`, then the resume negotiation for requests
   * that offer it: a known id with a count in range is resumed (its old
   * transport dropped at once, so nothing more arrives on it), an unknown id
   * gets a new session with a new id (never the one claimed), a count outside
   * what the session sent and holds is refused with 400.
   */
  wrap(authorize: Authorizer | undefined): Authorizer {
    return async (req) => {
      const result = authorize === undefined ? true : await authorize(req);
      const header = req.headers[RESUME_HEADER];
      if (header === undefined || result === false || (typeof result === 'object' && result.accept === false)) return result;
      const offer = parseOffer(header);
      if (offer === null) throw new UpgradeRejection(400, `Malformed ${RESUME_HEADER} header`);
      const accepted: { data?: unknown; headers?: Record<string, string> } = result === true ? {} : result;
      const session = offer.id === null ? undefined : this.sessions.get(offer.id);
      let ticket: Ticket;
      if (session !== undefined && offer.id !== null) {
        const s = session.state;
        if (offer.received < s.acked || offer.received > s.sent) {
          throw new UpgradeRejection(400, `${RESUME_HEADER}: received count outside what the session sent`);
        }
        session.suspend();
        ticket = new Ticket(accepted.data, session.id, session, offer.received, ++session.claims);
      } else {
        ticket = new Ticket(accepted.data, newSessionId(), null, 0);
      }
      const received = ticket.session === null ? 0 : ticket.session.state.received;
      const answer = formatAnswer({ id: ticket.id, received, resumed: ticket.session !== null });
      return { accept: true, data: ticket, headers: { ...accepted.headers, [RESUME_HEADER]: answer } };
    };
  }

  /** Give a resume connection its session; false for a plain connection (it goes to 'connection'). */
  take(ws: WebSocket, req: UpgradeRequest, data: unknown): boolean {
    if (!(data instanceof Ticket)) return false;
    const existing = data.session;
    if (existing !== null) {
      // Ended between the answer and now (window, overflow): the client was told it resumed, so it must come back.
      if (existing.closed) closeIfOpen(ws, 1011, 'resume: the session ended');
      // Two claims of one id answered before either connection attached: the later claim wins,
      // whichever handshake finishes first, so that one transport at a time delivers.
      else if (data.claim !== existing.claims) closeIfOpen(ws, 1008, 'resume: the session was claimed again');
      else {
        existing.attach(ws, data.peerReceived);
        existing.emit('resume', ws);
      }
      return true;
    }
    const session = new ResumableSession(data.id, this);
    this.sessions.set(session.id, session);
    session.attach(ws, 0);
    this.announce(session, req, data.data);
    return true;
  }

  /**
   * The server is closing or draining: from now on a transport that drops ends its
   * session, and `close()` ends every session now, closing its transport with the
   * server's close frame (so its client is told as that code says) and clearing its window.
   */
  stop(goodbye?: { code: number; reason: string }): void {
    this.stopping = true;
    if (goodbye === undefined) return;
    for (const s of [...this.sessions.values()]) s.closeWith('shutdown', goodbye.code, goodbye.reason);
  }

  /** @internal A session lost its transport: keep it, dropping the longest-waiting one past `maxSessions`. */
  detached(s: ResumableSession): void {
    this.waiting.set(s, true);
    for (const old of this.waiting.keys()) {
      if (this.waiting.size <= this.maxSessions) break;
      if (old !== s) old.end('evicted');
    }
  }

  /** @internal */
  attached(s: ResumableSession): void {
    this.waiting.delete(s);
  }

  /** @internal */
  forget(s: ResumableSession): void {
    this.waiting.delete(s);
    if (this.sessions.get(s.id) === s) this.sessions.delete(s.id);
  }
}
