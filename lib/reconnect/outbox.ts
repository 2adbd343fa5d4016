/**
 * Messages sent while disconnected, bounded in count and bytes, sent in order
 * when a connection opens.
 */
import { WebSocketError } from '../errors.js';
import type { Outgoing } from '../resume/state.js';

/** What a full outbox does with one more message. */
export type OutboxPolicy = 'drop-oldest' | 'drop-newest' | 'error';

export interface OutboxOptions {
  /** Most messages kept. Default 1000. */
  maxMessages: number;
  /** Most bytes kept. Default 1 MiB. */
  maxBytes: number;
  /** Default 'drop-oldest'. */
  policy: OutboxPolicy;
}

export const DEFAULT_OUTBOX: Readonly<OutboxOptions> = Object.freeze({ maxMessages: 1000, maxBytes: 1024 * 1024, policy: 'drop-oldest' });

export class Outbox {
  private items: Outgoing[] = [];
  bytes = 0;
  /** Messages dropped so far (by either drop policy). */
  dropped = 0;

  constructor(private readonly o: Readonly<OutboxOptions>) {}

  get length(): number {
    return this.items.length;
  }

  /**
   * Keep `m`. False when it was dropped ('drop-newest', or a message larger
   * than the whole outbox); throws ERR_WS_OUTBOX_FULL with 'error'.
   */
  push(m: Outgoing): boolean {
    const fits = (): boolean => this.items.length < this.o.maxMessages && this.bytes + m.size <= this.o.maxBytes;
    if (!fits()) {
      if (this.o.policy === 'error') {
        throw new WebSocketError(
          'ERR_WS_OUTBOX_FULL',
          `The outbox is full (${this.items.length} messages, ${this.bytes} bytes): wait for the 'open' event, or raise outboxMaxMessages/outboxMaxBytes`,
        );
      }
      if (this.o.policy === 'drop-newest' || m.size > this.o.maxBytes) {
        this.dropped++;
        return false;
      }
      while (!fits()) {
        this.bytes -= this.items.shift()!.size;
        this.dropped++;
      }
    }
    this.items.push(m);
    this.bytes += m.size;
    return true;
  }

  /** Everything kept, oldest first; the outbox is empty afterwards. */
  take(): Outgoing[] {
    const out = this.items;
    this.items = [];
    this.bytes = 0;
    return out;
  }
}
