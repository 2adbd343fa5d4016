/**
 * The settle-once bookkeeping of a dial stage that holds a socket or a stream
 * (the direct dial, the proxy tunnel, the HTTP/2 stream): a deadline, the
 * watch of connect()'s `signal`, the read of an HTTP/1.1 answer (its head; a
 * refusal's body), and one failure that undoes them, releases what the stage
 * holds and rejects. The stage keeps its own success path.
 */
import type { Duplex } from 'node:stream';
import { watchAbort } from './abort.js';
import { HandshakeError, type UpgradeResponseDetails } from '../errors.js';
import { collectBody } from '../handshake/response-body.js';
import { reasonPhrase } from '../handshake/response.js';
import { HeadParseError, HeadParser, type ResponseHead } from '../http/head-parser.js';
import type { HeaderList } from '../http/headers.js';
import { ERROR_BODY_TIMEOUT, MAX_ERROR_BODY, type HeadLimits } from '../http/limits.js';
import { readHead } from '../http/read-head.js';

/** What {@link settleOnce} needs from one stage. */
export interface DialStage {
  /** The stage's promise's reject. */
  reject: (err: HandshakeError) => void;
  /** Lets go of what the stage holds (destroy the socket, cancel the stream); called once, on failure. */
  release: () => void;
  /** connect()'s `signal`: aborting fails the stage with ERR_WS_ABORTED. */
  signal: AbortSignal | undefined;
  /** The URL the abort error names. */
  href: string;
  /** Milliseconds until the stage fails with `expired()`. */
  timeout: number;
  expired: () => HandshakeError;
}

/** How {@link DialSettler.readAnswer} words an answer head that does not parse. */
export interface InvalidAnswer {
  /** The code when the head broke one of the limits. */
  tooLarge: string;
  /** The code when it broke the grammar. */
  malformed: string;
  /** The message, before `: <what was wrong>`. */
  message: string;
}

/** One stage's deadline and abort watch, from {@link settleOnce}. */
export class DialSettler {
  /** Stops the read of the answer in progress. */
  private reading: (() => void) | null = null;
  private done = false;
  private readonly timer: NodeJS.Timeout;
  private readonly unwatch: () => void;

  constructor(private readonly stage: DialStage) {
    this.unwatch = watchAbort(stage.signal, stage.href, this.fail);
    this.timer = setTimeout(() => this.fail(stage.expired()), stage.timeout);
  }

  /** True once the stage failed or succeeded. */
  get settled(): boolean {
    return this.done;
  }

  /** Fail once (later calls, and calls after `succeed`, do nothing): stop the deadline, the watch and the reading, release, reject. */
  readonly fail = (err: HandshakeError): void => {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.unwatch();
    this.reading?.();
    this.stage.release();
    this.stage.reject(err);
  };

  /** Mark the stage settled and stop the deadline and the watch; the stage then resolves its own way. */
  succeed(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.unwatch();
  }

  /**
   * Read the answer's head on `socket` (the read stops if the stage fails first). A head that
   * breaks the grammar or `limits` fails the stage as `invalid` says; a read error goes to
   * `onError`; a complete head to `onHead`.
   */
  readAnswer(
    socket: Duplex,
    limits: HeadLimits,
    invalid: InvalidAnswer,
    onError: (err: Error) => void,
    onHead: (head: ResponseHead, rest: Buffer) => void,
  ): void {
    this.reading = readHead(socket, new HeadParser('response', limits), (err, head, rest) => {
      this.reading = null;
      if (err === null) return onHead(head!, rest!);
      if (!(err instanceof HeadParseError)) return onError(err);
      this.fail(new HandshakeError(err.reason !== 'malformed' ? invalid.tooLarge : invalid.malformed, `${invalid.message}: ${err.message}`));
    });
  }

  /**
   * A refusal on `socket`: keep the status and headers, and read the start of the body (at most
   * MAX_ERROR_BODY bytes, ERROR_BODY_TIMEOUT ms, instead of the deadline) so callers can show or
   * act on it; then fail with `refusal(text, details)`, `text` the status line's reason phrase
   * (or the standard one), `details` what the error carries.
   */
  refuse(
    socket: Duplex,
    onError: (err: Error) => void,
    head: ResponseHead,
    headers: HeaderList,
    rest: Buffer,
    refusal: (text: string, details: UpgradeResponseDetails) => HandshakeError,
  ): void {
    this.stopDeadline();
    // A reset after the answer only ends the body early; the refusal is what matters.
    socket.off('error', onError);
    socket.on('error', () => {});
    collectBody(socket, head.status, headers, rest, MAX_ERROR_BODY, ERROR_BODY_TIMEOUT, (body) => {
      const text = head.statusText || reasonPhrase(head.status);
      this.fail(refusal(text, { status: head.status, headers: headers.toRecord(), rawHeaders: headers.toRaw(), body }));
    });
  }

  /** Stop the deadline only: a refusal's body is being read, under its own bound. */
  stopDeadline(): void {
    clearTimeout(this.timer);
  }
}

/** Start the deadline and the abort watch of one stage. */
export function settleOnce(stage: DialStage): DialSettler {
  return new DialSettler(stage);
}
