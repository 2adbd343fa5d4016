/**
 * A client connection that survives its connections: it dials with
 * `connect()` again after an abnormal close or a failed attempt (backoff.ts),
 * keeps what is sent meanwhile (outbox.ts) and, with `resume`, continues a
 * resumable session so that no message is lost or repeated (docs/resume.md).
 */
import { EventEmitter } from 'node:events';
import { connect, type ClientOptions } from '../client/client.js';
import { HandshakeError, InvalidArgumentError } from '../errors.js';
import { ResumeLink } from '../resume/link.js';
import { DEFAULT_RESUME_BUFFER, ResumeState, outgoing } from '../resume/state.js';
import { RESUME_HEADER, formatOffer, parseAnswer } from '../resume/wire.js';
import { after, systemClock, type Clock } from '../timers.js';
import type { SendData, WebSocket } from '../websocket.js';
import { DEFAULT_BACKOFF, backoffWindow, slotDelay, type BackoffOptions, type ResolvedBackoff } from './backoff.js';
import { DEFAULT_OUTBOX, Outbox, type OutboxPolicy } from './outbox.js';

/** Options of {@link ReconnectingWebSocket}: every {@link ClientOptions} is passed to `connect()` on each attempt. */
export interface ReconnectingOptions extends ClientOptions, BackoffOptions {
  /** Most reconnects in a row without a stable connection between them; then 'end'. Default Infinity. */
  maxAttempts?: number;
  /** ms a connection must stay up before the attempt count starts again from 1. Default 5000. */
  stableAfter?: number;
  /** Close codes (from either side) after which it does not reconnect, besides 1000. Default none. */
  finalCloseCodes?: number[];
  /** Handshake statuses after which it does not reconnect. Default [401, 403, 404]. */
  finalStatuses?: number[];
  /** Most messages kept while disconnected. Default 1000. */
  outboxMaxMessages?: number;
  /** Most bytes kept while disconnected. Default 1 MiB. */
  outboxMaxBytes?: number;
  /** A full outbox drops its oldest message, drops the new one, or throws ERR_WS_OUTBOX_FULL. Default 'drop-oldest'. */
  outboxPolicy?: OutboxPolicy;
  /** Offer a resumable session (`true`, or the bound of the replay buffer in bytes, default 1 MiB). Default off. */
  resume?: boolean | { maxBuffer?: number };
  /** Time source of the delays (tests pass a manual clock). */
  clock?: Clock;
  /** Random source in [0, 1) of the jitter. Default Math.random. */
  random?: () => number;
}

/** Why a {@link ReconnectingWebSocket} stopped. */
export type EndReason = 'closed' | 'normal-close' | 'final-code' | 'final-status' | 'max-attempts';

export interface ReconnectingEvents {
  /** A connection is open; `resumed` says whether it continued the session (always false without `resume`). */
  open: [info: { ws: WebSocket; resumed: boolean }];
  /** A connection closed (each one, clean or not). */
  close: [info: { code: number; reason: string; wasClean: boolean }];
  message: [data: Buffer, isBinary: boolean];
  /** A reconnect is scheduled in `delay` ms; `code` or `error` says what ended the last connection or attempt. */
  reconnecting: [info: { attempt: number; delay: number; code?: number; error?: Error }];
  /** It gave up or was closed; nothing follows. */
  end: [info: { reason: EndReason; code?: number; status?: number; error?: Error }];
}

const DEFAULT_FINAL_STATUSES = [401, 403, 404];

/**
 * `new ReconnectingWebSocket(url, options)` dials at once (on the next tick),
 * and again after every abnormal close or failed attempt, with exponential
 * backoff and full jitter. It stops for good after a close with 1000 by either
 * side, a close code in `finalCloseCodes`, a handshake status in
 * `finalStatuses`, `maxAttempts` failed reconnects in a row, or `close()`.
 */
export class ReconnectingWebSocket extends EventEmitter<ReconnectingEvents> {
  private readonly backoff: ResolvedBackoff;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly outbox: Outbox;
  private readonly maxAttempts: number;
  private readonly stableAfter: number;
  private readonly finalCodes: ReadonlySet<number>;
  private readonly finalStatuses: ReadonlySet<number>;
  private readonly resumeBuffer: number | null;
  private current: WebSocket | null = null;
  private link: ResumeLink | null = null;
  private session: { id: string; state: ResumeState } | null = null;
  private attempt = 0;
  /** Clock time the current outage began (the first reconnect of the count), and where its next slot starts (ms after it). */
  private lostAt = 0;
  private slotStart = 0;
  private cancelTimer: (() => void) | null = null;
  private cancelStable: (() => void) | null = null;
  private stopping = false;
  private ended = false;

  constructor(
    readonly url: string | URL,
    private readonly options: ReconnectingOptions = {},
  ) {
    super();
    const baseDelay = duration('baseDelay', options.baseDelay, DEFAULT_BACKOFF.baseDelay);
    this.backoff = Object.freeze({
      firstDelay: duration('firstDelay', options.firstDelay, Math.min(DEFAULT_BACKOFF.firstDelay, baseDelay)),
      baseDelay,
      maxDelay: duration('maxDelay', options.maxDelay, DEFAULT_BACKOFF.maxDelay),
      restartDelay: duration('restartDelay', options.restartDelay, DEFAULT_BACKOFF.restartDelay),
      maxRetryAfter: duration('maxRetryAfter', options.maxRetryAfter, DEFAULT_BACKOFF.maxRetryAfter),
    });
    this.maxAttempts = duration('maxAttempts', options.maxAttempts, Infinity);
    this.stableAfter = duration('stableAfter', options.stableAfter, 5000);
    this.finalCodes = new Set(options.finalCloseCodes ?? []);
    this.finalStatuses = new Set(options.finalStatuses ?? DEFAULT_FINAL_STATUSES);
    this.outbox = new Outbox({
      maxMessages: duration('outboxMaxMessages', options.outboxMaxMessages, DEFAULT_OUTBOX.maxMessages),
      maxBytes: duration('outboxMaxBytes', options.outboxMaxBytes, DEFAULT_OUTBOX.maxBytes),
      policy: options.outboxPolicy ?? DEFAULT_OUTBOX.policy,
    });
    if (!['drop-oldest', 'drop-newest', 'error'].includes(options.outboxPolicy ?? 'drop-oldest')) {
      throw new InvalidArgumentError(`outboxPolicy must be 'drop-oldest', 'drop-newest' or 'error', not ${String(options.outboxPolicy)}`);
    }
    const r = options.resume;
    this.resumeBuffer = r === undefined || r === false ? null : r === true ? DEFAULT_RESUME_BUFFER : (r.maxBuffer ?? DEFAULT_RESUME_BUFFER);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    process.nextTick(() => this.dial());
  }

  /** The open connection, or null between connections. */
  get ws(): WebSocket | null {
    return this.current;
  }

  /** Messages waiting in the outbox, and how many it dropped. */
  get outboxSize(): { messages: number; bytes: number; dropped: number } {
    return { messages: this.outbox.length, bytes: this.outbox.bytes, dropped: this.outbox.dropped };
  }

  /**
   * Send now, or keep the message until the next connection opens (outbox;
   * with a resumed session, its replay buffer). False when it was dropped
   * (full outbox with 'drop-newest', session buffer overflow, after 'end');
   * throws ERR_WS_OUTBOX_FULL with the 'error' policy.
   */
  send(data: SendData, options: { binary?: boolean } = {}): boolean {
    if (this.ended || this.stopping) return false;
    const m = outgoing(data, options.binary);
    if (this.link !== null) {
      if (this.link.send(m)) return true;
      return false;
    }
    if (this.session !== null) {
      if (this.session.state.record(m)) return true;
      this.session = null;
      return false;
    }
    if (this.current !== null) {
      this.current.send(m.data, { binary: m.isBinary });
      return true;
    }
    return this.outbox.push(m);
  }

  /** Stop reconnecting and close the connection (default 1000); 'end' follows with reason 'closed'. */
  close(code = 1000, reason = ''): void {
    if (this.stopping || this.ended) return;
    this.stopping = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
    const ws = this.current;
    if (ws !== null) {
      if (ws.readyState === 1) ws.close(code, reason);
    } else if (!this.dialing) this.end({ reason: 'closed' });
  }

  private dialing = false;

  private dial(): void {
    this.cancelTimer = null;
    if (this.stopping || this.ended) return this.stopped();
    this.dialing = true;
    connect(this.url, this.connectOptions()).then(
      (ws) => {
        this.dialing = false;
        this.opened(ws);
      },
      (err: Error) => {
        this.dialing = false;
        this.failed(err);
      },
    );
  }

  /** The caller's options, plus the resume offer (into `headers`, a record or a per-attempt function). */
  private connectOptions(): ClientOptions {
    if (this.resumeBuffer === null) return this.options;
    const s = this.session;
    const value = formatOffer(s === null ? { id: null } : { id: s.id, received: s.state.received });
    const h = this.options.headers as unknown;
    const headers =
      typeof h === 'function'
        ? async (...args: unknown[]) => ({ ...(await (h as (...a: unknown[]) => unknown)(...args) as object), [RESUME_HEADER]: value })
        : { ...(h as Record<string, string> | undefined), [RESUME_HEADER]: value };
    return { ...this.options, headers: headers as Record<string, string> };
  }

  private opened(ws: WebSocket): void {
    if (this.stopping || this.ended) {
      ws.once('close', () => this.stopped());
      ws.close(1000);
      return;
    }
    this.current = ws;
    const resumed = this.resumeBuffer !== null && this.startSession(ws);
    if (this.link === null) ws.on('message', (data, isBinary) => this.emit('message', data, isBinary));
    for (const m of this.outbox.take()) this.send(m.data, { binary: m.isBinary });
    ws.once('close', (code, reason, wasClean) => this.closed(ws, code, reason.toString(), wasClean));
    this.cancelStable = after(this.clock, this.stableAfter, () => {
      this.cancelStable = null;
      this.attempt = 0;
    });
    this.emit('open', { ws, resumed });
  }

  /** Continue the session, or start a fresh one; true when the server resumed ours. Without the server's answer: a plain connection. */
  private startSession(ws: WebSocket): boolean {
    const answer = parseAnswer(ws.handshake?.headers[RESUME_HEADER] ?? '');
    if (answer === null) {
      this.session = null;
      return false;
    }
    const old = this.session;
    const resumed = answer.resumed && old !== null && old.id === answer.id;
    // A fresh session: what the old one had not delivered is lost (the application learns it from resumed: false).
    const session = resumed ? old : { id: answer.id, state: new ResumeState(this.resumeBuffer!) };
    this.session = session;
    const link = new ResumeLink(session.state, ws, {
      message: (data, isBinary) => this.emit('message', data, isBinary),
      overflow: () => this.dropSession(link),
      failed: () => this.dropSession(link),
    }, this.clock);
    this.link = link;
    link.start(resumed ? answer.received : 0);
    return resumed;
  }

  private dropSession(link: ResumeLink): void {
    if (this.link === link) this.link = null;
    if (this.session?.state === link.state) this.session = null;
  }

  private closed(ws: WebSocket, code: number, reason: string, wasClean: boolean): void {
    if (this.current !== ws) return;
    this.current = null;
    this.link?.detach();
    this.link = null;
    this.cancelStable?.();
    this.cancelStable = null;
    this.emit('close', { code, reason, wasClean });
    if (this.stopping) return this.stopped();
    if (code === 1000) return this.end({ reason: 'normal-close', code });
    if (this.finalCodes.has(code)) return this.end({ reason: 'final-code', code });
    this.schedule(code, reason);
  }

  private failed(err: Error): void {
    if (this.stopping) return this.stopped();
    const status = err instanceof HandshakeError ? err.status : undefined;
    if (status !== undefined && this.finalStatuses.has(status)) return this.end({ reason: 'final-status', status, error: err });
    this.schedule(undefined, '', err);
  }

  private schedule(code: number | undefined, reason: string, error?: Error): void {
    this.attempt++;
    if (this.attempt > this.maxAttempts) {
      return this.end({ reason: 'max-attempts', ...(code === undefined ? {} : { code }), ...(error === undefined ? {} : { error }) });
    }
    if (this.attempt === 1) {
      this.lostAt = this.clock.now();
      this.slotStart = 0;
    }
    const window = backoffWindow(this.backoff, this.attempt, code, reason);
    const delay = slotDelay(this.slotStart, window, this.clock.now() - this.lostAt, this.random);
    this.slotStart += window;
    this.cancelTimer = after(this.clock, delay, () => this.dial(), false);
    this.emit('reconnecting', { attempt: this.attempt, delay, ...(code === undefined ? {} : { code }), ...(error === undefined ? {} : { error }) });
  }

  private stopped(): void {
    this.end({ reason: 'closed' });
  }

  private end(info: ReconnectingEvents['end'][0]): void {
    if (this.ended) return;
    this.ended = true;
    this.cancelTimer?.();
    this.cancelStable?.();
    this.session = null;
    this.emit('end', info);
  }
}

function duration(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw new InvalidArgumentError(`${name} must be a number >= 0 (got ${String(value)})`);
  return value;
}

