/**
 * The seam between a WebSocket connection and the byte stream under it. The
 * connection above speaks only to this interface, so the same code runs over
 * a TCP or TLS socket after an HTTP/1.1 upgrade, an HTTP/2 stream after an
 * RFC 8441 extended CONNECT, or an in-memory pipe in tests.
 */

/** What a transport reports to the connection bound to it. */
export interface TransportListener {
  /** Bytes received from the peer, in order. */
  onData(chunk: Buffer): void;
  /** The write buffer fell back under the transport's high-water mark after a write returned false. */
  onDrain(): void;
  /** A transport error (reset, TLS failure...). `onTransportClose` follows. */
  onTransportError(err: Error): void;
  /** The byte stream is closed in both directions; nothing more will happen. */
  onTransportClose(): void;
}

/** What is known of the TLS session under a transport. */
export interface TlsInfo {
  /** Whether the peer's certificate was verified against the trusted CAs. */
  readonly authorized: boolean;
  /** Why verification failed, when it did. */
  readonly authorizationError: string | undefined;
  /** The protocol ALPN selected ('h2', 'http/1.1'), or false. */
  readonly alpnProtocol: string | false;
  /** 'TLSv1.3', 'TLSv1.2', ... */
  readonly protocol: string | null;
  /** The peer's certificate (empty object when it sent none). */
  peerCertificate(): object;
}

/** A bidirectional byte stream a WebSocket runs over. */
export interface Transport {
  /**
   * Start delivering events to `listener`. Called once, by the connection
   * that takes the transport over; bytes received before are delivered after.
   */
  bind(listener: TransportListener): void;
  /**
   * Queue chunks for the wire, in order, without keeping references after
   * they are written. Returns false once the buffered bytes are at or above
   * the transport's high-water mark; `onDrain` follows when they fall back.
   * `shared`: the chunks are a publish's frames, written to every subscriber in one pass; a
   * transport may hand them on at once instead of holding them for the end of the tick.
   */
  write(chunks: Buffer[], shared?: boolean): boolean;
  /**
   * Optional: write one frame, the same bytes as `write(encodeFrame(b0, payload, masked))`,
   * for a transport that can encode small frames straight into its write batch.
   */
  writeFrame?(b0: number, payload: Buffer, masked: boolean): boolean;
  /** Close our sending side once everything queued is flushed (TCP FIN, END_STREAM). */
  end(): void;
  /** Drop the stream at once; queued bytes are lost. `onTransportClose` follows. */
  destroy(): void;
  /** Stop delivering `onData` (the peer is pushed back by TCP or HTTP/2 flow control). */
  pauseReading(): void;
  /** Undo `pauseReading()`. */
  resumeReading(): void;
  /** Bytes written and not yet handed to the kernel (or consumed by the peer, for a pipe). */
  readonly writableLength: number;
  /** True while a write returned false and `onDrain` has not followed yet. */
  readonly writableNeedDrain: boolean;
  /** Call `cb` once everything written so far has been flushed. Not called if the transport closes first. */
  whenFlushed(cb: () => void): void;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** TLS details, or null on a cleartext transport. */
  readonly tls: TlsInfo | null;
}

/** A listener for a transport not bound yet: nothing is listening. */
export const UNBOUND: TransportListener = Object.freeze({
  onData() {},
  onDrain() {},
  onTransportError() {},
  onTransportClose() {},
});
