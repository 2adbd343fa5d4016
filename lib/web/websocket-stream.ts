/**
 * WebSocketStream (as shipped in Chromium, whatwg/websockets#48): the connection as a
 * ReadableStream of messages and a WritableStream of messages. Reading is pulled: while the
 * readable's queue is full the connection is paused (no parsing, no socket reads, TCP pushes
 * back on the server), and each write resolves once the connection's send buffer is under
 * its high-water mark again.
 */
import type { WebSocket as Connection } from '../websocket.js';
import { checkNodeOptions } from './check-options.js';
import { dial, outcomeOf, type NodeWebSocketOptions } from './dial.js';
import { checkProtocols, parseWebSocketUrl, usvString } from './validate.js';
import { closeInfo, uncleanClose, WebSocketError, type WebSocketCloseInfo } from './websocket-error.js';

/** WebIDL BufferSource. */
export type BufferSource = ArrayBuffer | ArrayBufferView;

export interface WebSocketStreamOptions extends Omit<NodeWebSocketOptions, 'protocols' | 'signal'> {
  protocols?: string[];
  /** Aborts the opening handshake (rejects `opened` and `closed` with the signal's reason; the
   *  socket being dialled is destroyed at once). */
  signal?: AbortSignal | null;
}

/** What `opened` resolves with. */
export interface WebSocketOpenInfo {
  readable: ReadableStream<string | Uint8Array>;
  writable: WritableStream<string | BufferSource>;
  protocol: string;
  extensions: string;
}

/** Message bytes (string length for text) the readable side queues before the connection is paused. */
const READ_HIGH_WATER_MARK = 64 * 1024;

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody awaits (closed, when only opened is used) must not crash the process.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export class WebSocketStream {
  readonly #url: URL;
  readonly #opened = deferred<WebSocketOpenInfo>();
  readonly #closed = deferred<Required<WebSocketCloseInfo>>();
  #state = CONNECTING;
  #aborted = false;
  #conn: Connection | null = null;
  #sawError = false;
  /** Stops the dial (close() while connecting, or the signal). */
  readonly #dialing = new AbortController();
  #readable: ReadableStreamDefaultController<string | Uint8Array> | null = null;
  #writable: WritableStreamDefaultController | null = null;

  constructor(url: string | URL, options: WebSocketStreamOptions = {}) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'WebSocketStream': 1 argument required, but only 0 present.");
    const { protocols = [], signal = null, ...rest } = options ?? {};
    this.#url = parseWebSocketUrl(url);
    const list = checkProtocols(Array.from(protocols, usvString));
    checkNodeOptions(this.#url, list, rest);
    if (signal !== null) {
      if (signal.aborted) {
        this.#abort(signal.reason);
        return;
      }
      signal.addEventListener('abort', () => {
        if (this.#state === CONNECTING) this.#abort(signal.reason);
      }, { once: true });
    }
    dial(this.#url, list, rest, this.#dialing.signal).then(
      (conn) => this.#established(conn),
      () => this.#neverOpened(),
    );
  }

  get url(): string {
    return this.#url.href;
  }

  /** Resolves once open with the streams, the subprotocol and the extensions; rejects with a WebSocketError if the connection fails first. */
  get opened(): Promise<WebSocketOpenInfo> {
    return this.#opened.promise;
  }

  /** Resolves with `{ closeCode, reason }` after a clean close; rejects with a WebSocketError after any other. */
  get closed(): Promise<Required<WebSocketCloseInfo>> {
    return this.#closed.promise;
  }

  /** Start the closing handshake (closeCode 1000 or 3000-4999; reason at most 123 UTF-8 bytes). */
  close(info?: WebSocketCloseInfo): void {
    const { code, reason } = closeInfo(info);
    this.#close(code, reason);
  }

  #close(code: number | undefined, reason: string): void {
    if (this.#state === CONNECTING) {
      // Fail the connection: the dial still in progress is stopped (its socket destroyed) now.
      this.#state = CLOSING;
      this.#dialing.abort();
      setImmediate(() => this.#neverOpened());
    } else if (this.#state === OPEN) {
      this.#state = CLOSING;
      this.#conn!.close(code, reason);
    }
  }

  /** Cancelling the readable or aborting the writable: a WebSocketError's code and reason, else a plain close. */
  #closeUsingReason(reason: unknown): void {
    if (reason instanceof WebSocketError) {
      try {
        this.#close(reason.closeCode ?? undefined, reason.reason);
        return;
      } catch {
        // The code or reason cannot be sent: close without them.
      }
    }
    this.#close(undefined, '');
  }

  #abort(reason: unknown): void {
    this.#aborted = true;
    this.#state = CLOSING;
    this.#dialing.abort();
    this.#opened.reject(reason);
    this.#closed.reject(reason);
  }

  #neverOpened(): void {
    if (this.#aborted || this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#opened.reject(new WebSocketError('The WebSocket connection could not be established'));
    this.#closed.reject(uncleanClose(1006, ''));
  }

  #established(conn: Connection): void {
    if (this.#state !== CONNECTING) {
      conn.terminate();
      return;
    }
    this.#state = OPEN;
    this.#conn = conn;
    conn.on('error', () => {
      this.#sawError = true;
    });
    conn.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    conn.once('close', (code, reason, wasClean) => this.#onClose(outcomeOf(code, reason, wasClean, this.#sawError)));
    const readable = new ReadableStream<string | Uint8Array>(
      {
        start: (c) => {
          this.#readable = c;
        },
        pull: () => conn.resume(),
        cancel: (reason) => this.#closeUsingReason(reason),
      },
      { highWaterMark: READ_HIGH_WATER_MARK, size: (chunk) => (typeof chunk === 'string' ? chunk.length : chunk!.byteLength) },
    );
    const writable = new WritableStream<string | BufferSource>({
      start: (c) => {
        this.#writable = c;
      },
      write: (chunk) => this.#write(chunk),
      close: () => this.#close(undefined, ''),
      abort: (reason) => this.#closeUsingReason(reason),
    });
    this.#opened.resolve({ readable, writable, protocol: conn.protocol, extensions: conn.extensions });
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (this.#state !== OPEN) return;
    const c = this.#readable!;
    c.enqueue(isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString('utf8'));
    // The queue is full: stop reading until the consumer pulls.
    if (c.desiredSize! <= 0) this.#conn!.pause();
  }

  /** Sends one message; resolves once the send buffer is under its mark (at once when it is). */
  #write(chunk: string | BufferSource): Promise<void> | void {
    const conn = this.#conn!;
    let data: Buffer;
    let binary = true;
    if (chunk instanceof ArrayBuffer) data = Buffer.from(new Uint8Array(chunk));
    else if (ArrayBuffer.isView(chunk)) data = Buffer.from(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    else {
      data = Buffer.from(usvString(chunk), 'utf8');
      binary = false;
    }
    if (this.#state !== OPEN || conn.readyState !== conn.OPEN) return;
    if (conn.send(data, { binary })) return;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        conn.off('drain', done);
        conn.off('close', done);
        resolve();
      };
      conn.on('drain', done);
      conn.on('close', done);
    });
  }

  #onClose(outcome: ReturnType<typeof outcomeOf>): void {
    this.#state = CLOSED;
    if (outcome.wasClean) {
      try {
        this.#readable!.close();
      } catch {
        // Already cancelled or closed by the consumer.
      }
      this.#writable!.error(new DOMException('A closed WebSocketStream cannot be written to', 'InvalidStateError'));
      this.#closed.resolve({ closeCode: outcome.code, reason: outcome.reason });
      return;
    }
    const err = uncleanClose(outcome.code, outcome.reason);
    this.#readable!.error(err);
    this.#writable!.error(err);
    this.#closed.reject(err);
  }
}

Object.defineProperty(WebSocketStream.prototype, Symbol.toStringTag, { value: 'WebSocketStream', configurable: true });
