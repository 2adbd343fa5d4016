/**
 * The settle-once bookkeeping of a dial stage that holds a socket or a stream
 * (the direct dial, the proxy tunnel, the HTTP/2 stream): a deadline, the
 * watch of connect()'s `signal`, and one failure that undoes both, stops the
 * reading, releases what the stage holds and rejects. The stage keeps its own
 * success path.
 */
import { watchAbort } from './client-abort.js';
import type { HandshakeError } from './errors.js';

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

/** One stage's deadline and abort watch, from {@link settleOnce}. */
export class DialSettler {
  /** Stops a read in progress (what `readHead` returns); the stage sets it, and clears it once the read ended. */
  reading: (() => void) | null = null;
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

  /** Stop the deadline only: a refusal's body is being read, under its own bound. */
  stopDeadline(): void {
    clearTimeout(this.timer);
  }
}

/** Start the deadline and the abort watch of one stage. */
export function settleOnce(stage: DialStage): DialSettler {
  return new DialSettler(stage);
}
