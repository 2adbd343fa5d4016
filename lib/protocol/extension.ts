/**
 * The contract between the protocol core and a negotiated per-message
 * extension (RFC 7692 permessage-deflate). The core owns framing, ordering and
 * RSV1; the transform only turns payload bytes into other payload bytes.
 */

/** A per-message transform negotiated by an extension (permessage-deflate). Callback-based. */
export interface MessageTransform {
  /**
   * Compress one fragment of an outgoing message (`fin` = true on the last or
   * only one). Output is the frame payload for that fragment (for `fin`, the
   * trailing 00 00 ff ff already removed). Calls `cb` exactly once, in call
   * order across calls.
   */
  compress(data: Buffer, fin: boolean, cb: (err: Error | null, out?: Buffer) => void): void;
  /**
   * Inflate one fragment of a compressed incoming message, in order. On
   * `fin` = true `cb` receives the whole inflated message (`out`). Errors carry
   * `closeCode` via ProtocolError: 1009 when the inflated size passes
   * maxPayload (stop inflating at once), 1007 on corrupt data. `cb` exactly
   * once per call.
   */
  decompress(data: Buffer, fin: boolean, cb: (err: Error | null, out?: Buffer) => void): void;
  /**
   * Streamed inflate (optional; used for streamed receive): like decompress, but each inflated
   * piece goes to `onData` as it is produced and `cb` gets no output. `limit` caps the inflated
   * size of the message (1009 past it, inflating stops at once). While the consumer is full the
   * core calls pauseOutput (no more onData until resumeOutput).
   */
  decompressStream?(data: Buffer, fin: boolean, limit: number, onData: (chunk: Buffer) => void, cb: (err: Error | null) => void): void;
  /** Hold onData calls of the decompressStream step in flight. */
  pauseOutput?(): void;
  /** Undo pauseOutput. */
  resumeOutput?(): void;
  /** Release zlib resources; pending callbacks may never fire after this. Idempotent. */
  dispose(): void;
}
