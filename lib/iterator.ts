import type { EventEmitter } from 'node:events';
import { ConnectionClosedError } from './errors.js';

/** One received message, as yielded by `for await (const message of ws)`. */
export interface Message {
  data: Buffer;
  isBinary: boolean;
}

/** The socket is paused once this many messages or bytes wait for the consumer... */
const HIGH_MESSAGES = 64;
const HIGH_BYTES = 1024 * 1024;
/** ...and resumed when the queue is back under half of both. */
const LOW_MESSAGES = HIGH_MESSAGES / 2;
const LOW_BYTES = HIGH_BYTES / 2;

interface Flow {
  pause(): void;
  resume(): void;
}

interface Waiter {
  resolve(result: IteratorResult<Message>): void;
  reject(err: Error): void;
}

/**
 * Turns a WebSocket's `message` events into an async iterator with
 * backpressure: when the loop body is slower than the peer, the queue fills,
 * reading stops (TCP pushes back on the peer), and resumes as it drains.
 */
export class MessageIterator implements AsyncIterableIterator<Message> {
  finished = false;
  private readonly queue: Message[] = [];
  private head = 0;
  private queuedBytes = 0;
  private paused = false;
  private waiter: Waiter | null = null;
  private closed = false;
  private closeError: Error | null = null;
  private readonly onMessage = (data: Buffer, isBinary: boolean): void => this.push(data, isBinary);
  private readonly onClose = (code: number, reason: string, wasClean: boolean): void => this.end(code, reason, wasClean);

  constructor(private readonly source: EventEmitter, private readonly flow: Flow) {
    source.on('message', this.onMessage);
    source.on('close', this.onClose);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return this;
  }

  next(): Promise<IteratorResult<Message>> {
    if (this.head < this.queue.length) return Promise.resolve({ value: this.shift(), done: false });
    if (this.closed) return this.finish();
    if (this.waiter !== null) return Promise.reject(new Error('next() called again before the previous call settled'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Leaving the loop (`break`) stops listening; the connection stays open. */
  return(): Promise<IteratorResult<Message>> {
    this.detach();
    this.finished = true;
    this.queue.length = 0;
    this.head = 0;
    if (this.paused) {
      this.paused = false;
      this.flow.resume();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  private push(data: Buffer, isBinary: boolean): void {
    const message: Message = { data, isBinary };
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter.resolve({ value: message, done: false });
      return;
    }
    this.queue.push(message);
    this.queuedBytes += data.length;
    if (!this.paused && (this.queue.length - this.head >= HIGH_MESSAGES || this.queuedBytes >= HIGH_BYTES)) {
      this.paused = true;
      this.flow.pause();
    }
  }

  private shift(): Message {
    const message = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as Message;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
    this.queuedBytes -= message.data.length;
    if (this.paused && this.queue.length - this.head <= LOW_MESSAGES && this.queuedBytes <= LOW_BYTES) {
      this.paused = false;
      this.flow.resume();
    }
    return message;
  }

  private end(code: number, reason: string, wasClean: boolean): void {
    this.closed = true;
    this.closeError = wasClean ? null : new ConnectionClosedError(code, reason);
    this.detach();
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      this.finish().then(waiter.resolve, waiter.reject);
    }
  }

  private finish(): Promise<IteratorResult<Message>> {
    this.finished = true;
    const err = this.closeError;
    if (err !== null) {
      this.closeError = null;
      return Promise.reject(err);
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  private detach(): void {
    this.source.off('message', this.onMessage);
    this.source.off('close', this.onClose);
  }
}
