/**
 * One side of a resumable session, sans I/O: numbers what it sends, keeps
 * what the peer has not acknowledged (bounded in bytes), counts what it
 * received and decides when an acknowledgement is due. Messages are numbered
 * implicitly: the n-th data message of the session in a direction is number
 * n on every transport, since each transport is ordered and a replay starts
 * exactly at the count the peer reported.
 */

/** A message as sent: strings stay text, everything else is a Buffer. */
export interface Outgoing {
  data: string | Buffer;
  isBinary: boolean;
  size: number;
}

/** Bytes of unacknowledged messages each side keeps by default (as SignalR's stateful reconnect). */
export const DEFAULT_RESUME_BUFFER = 1024 * 1024;
/** An ack is sent at the latest after this many messages... */
export const ACK_EVERY_MESSAGES = 64;
/** ...or this many bytes received since the last one... */
export const ACK_EVERY_BYTES = 64 * 1024;
/** ...or this many ms after the first unacknowledged message. */
export const ACK_DELAY = 50;

export class ResumeState {
  /** Messages numbered so far (the next one is number `sent`). */
  sent = 0;
  /** Messages the peer acknowledged: the buffer holds numbers acked..sent-1. */
  acked = 0;
  /** Messages received (and delivered) from the peer. */
  received = 0;
  /** The count last reported to the peer. */
  reported = 0;
  private bytesSinceReport = 0;
  private buffer: Outgoing[] = [];
  private head = 0;
  /** Bytes in the buffer. */
  bytes = 0;

  constructor(readonly maxBuffer = DEFAULT_RESUME_BUFFER) {}

  /** Number and keep a message; false when it takes the buffer past its bound (the session cannot be resumed any more). */
  record(m: Outgoing): boolean {
    this.sent++;
    this.buffer.push(m);
    this.bytes += m.size;
    return this.bytes <= this.maxBuffer;
  }

  /** The peer has received `n` messages. False when `n` is below an earlier ack or beyond what was sent (forged or broken). */
  ack(n: number): boolean {
    if (!Number.isSafeInteger(n) || n < this.acked || n > this.sent) return false;
    while (this.acked < n) {
      this.bytes -= this.buffer[this.head]!.size;
      this.buffer[this.head++] = undefined as unknown as Outgoing;
      this.acked++;
    }
    if (this.head > 1024 && this.head * 2 > this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    return true;
  }

  /** What to send again to a peer that has received `n` messages (acknowledging them); null when `n` is out of range. */
  replayFrom(n: number): Outgoing[] | null {
    if (!this.ack(n)) return null;
    return this.buffer.slice(this.head);
  }

  /** A message arrived; true when an acknowledgement is due now. */
  receivedOne(size: number): boolean {
    this.received++;
    this.bytesSinceReport += size;
    return this.received - this.reported >= ACK_EVERY_MESSAGES || this.bytesSinceReport >= ACK_EVERY_BYTES;
  }

  /** Whether some received message has not been reported. */
  get unreported(): boolean {
    return this.received > this.reported;
  }

  /** The count to report now. */
  report(): number {
    this.reported = this.received;
    this.bytesSinceReport = 0;
    return this.received;
  }
}

/** The stored form of what the application sent: copies views, so a later write to them does not change a replay. */
export function outgoing(data: string | Buffer | ArrayBuffer | ArrayBufferView, binary?: boolean): Outgoing {
  if (typeof data === 'string') return { data, isBinary: binary === true, size: Buffer.byteLength(data) };
  const buf = Buffer.isBuffer(data)
    ? data
    : data instanceof ArrayBuffer
      ? Buffer.from(data.slice(0))
      : Buffer.from(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return { data: buf, isBinary: binary !== false, size: buf.length };
}
