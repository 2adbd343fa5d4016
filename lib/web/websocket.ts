/**
 * The WebSocket interface of the WHATWG WebSockets standard, over this library's client:
 * code written for browsers runs unchanged. The constructor returns in the CONNECTING
 * state and dials with connect(); every event is dispatched as a task of its own
 * (setImmediate), never inside the caller; any failure to connect looks the same
 * (`error`, then `close` with 1006), as the standard requires.
 */
import type { WebSocket as Connection } from '../websocket.js';
import { CloseEvent, defineEventHandlers, MessageEvent } from './events.js';
import { checkNodeOptions } from './check-options.js';
import { dial, FAILED, outcomeOf, type NodeWebSocketOptions, type Outcome } from './dial.js';
import { SendQueue } from './send-queue.js';
import { checkClose, checkProtocols, clampUnsignedShort, parseWebSocketUrl, toProtocolList, usvString } from './validate.js';

/** `blob` and `arraybuffer` as in browsers; `nodebuffer` (a Node extension) delivers a Buffer. */
export type BinaryType = 'blob' | 'arraybuffer' | 'nodebuffer';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
const BINARY_TYPES: ReadonlySet<string> = new Set(['blob', 'arraybuffer', 'nodebuffer']);

type Handler<E extends Event> = ((this: WebSocket, ev: E) => unknown) | null;

/**
 * A browser-compatible WebSocket: `new WebSocket(url, protocols)`, or
 * `new WebSocket(url, { protocols, headers, tls, perMessageDeflate, http })` for the
 * Node-only options of connect().
 */
export class WebSocket extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;
  declare onopen: Handler<Event>;
  declare onmessage: Handler<MessageEvent>;
  declare onerror: Handler<Event>;
  declare onclose: Handler<CloseEvent>;

  readonly #url: URL;
  #state = CONNECTING;
  #binaryType: BinaryType = 'blob';
  #protocol = '';
  #extensions = '';
  #conn: Connection | null = null;
  #queue: SendQueue | null = null;
  /** Message tasks queued and not yet run. */
  #pendingMessages = 0;
  #sawError = false;
  /** Stops the dial when close() is called while CONNECTING. */
  readonly #dialing = new AbortController();

  constructor(url: string | URL, protocols?: string | string[] | NodeWebSocketOptions) {
    super();
    if (arguments.length === 0) throw new TypeError("Failed to construct 'WebSocket': 1 argument required, but only 0 present.");
    let options: NodeWebSocketOptions = {};
    if (protocols !== null && typeof protocols === 'object' && !(Symbol.iterator in protocols)) {
      options = protocols;
      protocols = options.protocols;
    }
    this.#url = parseWebSocketUrl(url);
    const list = checkProtocols(toProtocolList(protocols));
    checkNodeOptions(this.#url, list, options);
    dial(this.#url, list, options, this.#dialing.signal).then(
      (conn) => this.#connected(conn),
      () => this.#failBeforeOpen(),
    );
  }

  /** The URL dialled, serialized (http: and https: already rewritten to ws: and wss:). */
  get url(): string {
    return this.#url.href;
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): number {
    // The peer's close frame starts the closing handshake without a call here.
    if (this.#state === OPEN && this.#conn!.readyState !== OPEN) return CLOSING;
    return this.#state;
  }

  /** Payload bytes queued by send() and not yet transmitted (it keeps growing for sends after close started). */
  get bufferedAmount(): number {
    return this.#queue?.bufferedAmount ?? 0;
  }

  /** The negotiated extensions (`Sec-WebSocket-Extensions`), '' before open. */
  get extensions(): string {
    return this.#extensions;
  }

  /** The subprotocol the server selected, '' before open or when none. */
  get protocol(): string {
    return this.#protocol;
  }

  /** How binary messages are delivered: 'blob' (default), 'arraybuffer', or 'nodebuffer' (Node extension). Other values are ignored. */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(value: BinaryType) {
    if (BINARY_TYPES.has(value)) this.#binaryType = value;
  }

  /**
   * Queue a message: a string (text), or an ArrayBuffer, a view of one, or a Blob
   * (binary). Throws InvalidStateError while CONNECTING; once closing, data is discarded
   * but still counted in bufferedAmount.
   */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'send' on 'WebSocket': 1 argument required, but only 0 present.");
    if (this.#state === CONNECTING) throw new DOMException('Still in CONNECTING state.', 'InvalidStateError');
    const queue = this.#queue;
    if (data instanceof Blob) {
      if (queue === null) return;
      queue.send(data, true, data.size);
      return;
    }
    let buf: Buffer;
    let binary = true;
    if (data instanceof ArrayBuffer) buf = Buffer.from(data);
    else if (ArrayBuffer.isView(data)) buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    else if (isShared(data)) throw new TypeError('A SharedArrayBuffer (or a view of one) cannot be sent');
    else {
      buf = Buffer.from(usvString(data), 'utf8');
      binary = false;
    }
    if (binary && isShared(buf.buffer)) throw new TypeError('A SharedArrayBuffer (or a view of one) cannot be sent');
    // Only a compressed message is read after send() returns (a masked frame is a copy): copy then.
    if (binary && this.#extensions !== '') buf = Buffer.from(buf);
    if (queue === null) return;
    queue.send(buf, binary, buf.length);
  }

  /**
   * Start the closing handshake (or abandon the connection attempt). `code` must be 1000 or
   * 3000-4999 (else InvalidAccessError), `reason` at most 123 UTF-8 bytes (else SyntaxError).
   */
  close(code?: number, reason?: string): void {
    const checked = checkClose(code === undefined ? undefined : clampUnsignedShort(code), reason === undefined ? undefined : usvString(reason));
    if (this.#state === CLOSING || this.#state === CLOSED) return;
    if (this.#state === CONNECTING) {
      // Fail the connection: the dial still in progress is stopped (its socket destroyed) now.
      this.#state = CLOSING;
      this.#dialing.abort();
      setImmediate(() => this.#closed(FAILED));
      return;
    }
    this.#state = CLOSING;
    this.#queue!.close(checked.code, checked.reason);
  }

  #connected(conn: Connection): void {
    if (this.#state !== CONNECTING) {
      conn.terminate();
      return;
    }
    this.#conn = conn;
    this.#queue = new SendQueue(conn);
    conn.on('error', () => {
      this.#sawError = true;
    });
    // The connection emits `open` in a task of its own and holds messages until then.
    conn.once('open', () => {
      if (this.#state !== CONNECTING) return;
      this.#state = OPEN;
      this.#protocol = conn.protocol;
      this.#extensions = conn.extensions;
      this.dispatchEvent(new Event('open'));
    });
    conn.on('message', (data, isBinary) => {
      this.#pendingMessages++;
      setImmediate(() => this.#messageTask(data, isBinary));
    });
    conn.once('close', (code, reason, wasClean) => {
      const outcome = outcomeOf(code, reason, wasClean, this.#sawError);
      setImmediate(() => this.#closed(outcome));
    });
  }

  #failBeforeOpen(): void {
    if (this.#state === CONNECTING) setImmediate(() => this.#closed(FAILED));
  }

  /**
   * One message's task. While more message tasks are queued behind it, what the listeners send
   * waits in the send queue; the last task of the run lets it all go at its end, so the replies
   * to a run of messages leave in one write (each message is still its own task, with the
   * microtask checkpoint after it).
   */
  #messageTask(data: Buffer, isBinary: boolean): void {
    const queue = this.#queue!;
    const last = --this.#pendingMessages === 0;
    if (!last) queue.hold();
    try {
      this.#deliver(data, isBinary);
    } finally {
      if (last) queue.release();
    }
  }

  /** The task of a received message (binaryType is read now, as the standard says). */
  #deliver(data: Buffer, isBinary: boolean): void {
    if (this.#state !== OPEN) return;
    let value: string | Blob | ArrayBuffer | Buffer;
    if (!isBinary) value = data.toString('utf8');
    else if (this.#binaryType === 'blob') value = new Blob([data]);
    else if (this.#binaryType === 'arraybuffer') value = data.buffer.slice(data.byteOffset, data.byteOffset + data.length) as ArrayBuffer;
    else value = data;
    this.dispatchEvent(new MessageEvent('message', { data: value, origin: this.#url.origin }));
  }

  #closed(outcome: Outcome): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    if (outcome.failed) this.dispatchEvent(new Event('error'));
    this.dispatchEvent(new CloseEvent('close', { wasClean: outcome.wasClean, code: outcome.code, reason: outcome.reason }));
  }
}

function isShared(x: unknown): boolean {
  return typeof SharedArrayBuffer === 'function' && x instanceof SharedArrayBuffer;
}

for (const [name, value] of [['CONNECTING', CONNECTING], ['OPEN', OPEN], ['CLOSING', CLOSING], ['CLOSED', CLOSED]] as const) {
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}
defineEventHandlers(WebSocket.prototype, ['open', 'message', 'error', 'close']);
Object.defineProperty(WebSocket.prototype, Symbol.toStringTag, { value: 'WebSocket', configurable: true });
