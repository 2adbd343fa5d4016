import type { Http2Stream } from 'node:http2'; // the module is loaded on first use (startup RSS: bench/RESULTS.md, "Streams analysis")
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { UNBOUND, type TlsInfo, type Transport, type TransportListener } from './transport.js';
import { SocketTlsInfo } from './tls-info.js';

/**
 * Binds a WebSocket connection to one HTTP/2 stream after an RFC 8441
 * extended CONNECT: a `ServerHttp2Stream` once it answered `:status 200`, or
 * a `ClientHttp2Stream` once that answer arrived. The stream's DATA frames
 * carry the RFC 6455 frames; the session under it carries other streams too,
 * so everything here acts on the stream and never on the session:
 *
 * - `end()` sends END_STREAM, `destroy()` RST_STREAM(CANCEL) (RFC 8441 §5:
 *   a stream reset is the HTTP/2 analogue of a TCP reset).
 * - A peer's END_STREAM is answered with ours, as a socket without
 *   allowHalfOpen answers a FIN, so the stream closes both ways.
 * - The server's `end()` (the closing handshake is complete: both close
 *   frames have passed, nothing the client could still send matters) also
 *   closes the client's half: END_STREAM, then RST_STREAM(NO_ERROR) once our
 *   last DATA has left, which RFC 9113 §8.1 allows a server after a complete
 *   response. Over TCP the server's FIN ends the connection for a client that
 *   never closes; over HTTP/2 a client that never sends END_STREAM (undici 7
 *   does not) would otherwise hold the stream until `closeTimeout`.
 * - Bytes held back by HTTP/2 flow control (the peer's stream or connection
 *   window is exhausted) stay in the stream's `writableLength` until nghttp2
 *   has sent them, so `write()` returns false at the stream's mark, and the
 *   WebSocket's `bufferedAmount` and `maxSendQueue` see them as for TCP.
 * - `pauseReading()` pauses the stream: Node then stops consuming its DATA,
 *   no WINDOW_UPDATE is sent for it, and the peer is flow-controlled after
 *   one stream window (64 KiB by default). The connection window is consumed
 *   regardless, so the session's other streams go on.
 *
 * Writes issued in one tick are batched as in `socket.ts`: the stream is
 * corked on the first and uncorked on the next tick, so small frames leave
 * in as few DATA frames as the window allows.
 */
export class Http2StreamTransport implements Transport {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** Times a write found the stream at its mark (flow-control stalls or a slow socket). */
  stalls = 0;
  private readonly stream: Http2Stream;
  private readonly socket: Socket | null;
  private listener: TransportListener = UNBOUND;
  private corked = false;
  private readingPaused = false;
  private closed = false;

  /** `server`: the accepting side, which closes both halves of the stream in `end()` (see above). */
  private readonly server: boolean;

  constructor(stream: Http2Stream, role: 'server' | 'client') {
    this.stream = stream;
    this.server = role === 'server';
    // The session's socket is a proxy that forbids I/O but answers reads of its properties.
    const socket = (stream.session?.socket ?? null) as Socket | null;
    this.socket = socket;
    this.remoteAddress = socket?.remoteAddress;
    this.remotePort = socket?.remotePort;
  }

  bind(listener: TransportListener): void {
    const stream = this.stream;
    this.listener = listener;
    stream.on('data', (chunk: Buffer) => this.listener.onData(chunk));
    stream.on('drain', () => this.listener.onDrain());
    stream.on('error', (err: Error) => this.listener.onTransportError(err));
    stream.on('end', () => this.onPeerEnd());
    stream.on('close', () => this.closeLate());
    stream.resume();
    // A reset or GOAWAY may have come during the handover: 'close' then already fired.
    if (stream.destroyed || stream.closed) queueMicrotask(() => this.closeLate());
  }

  get tls(): TlsInfo | null {
    const socket = this.socket as TLSSocket | null;
    return socket !== null && socket.encrypted === true ? new SocketTlsInfo(socket) : null;
  }

  write(chunks: Buffer[]): boolean {
    const stream = this.stream;
    if (this.closed || stream.destroyed || stream.writableEnded) return true;
    if (!this.corked) {
      this.corked = true;
      stream.cork();
      process.nextTick(uncork, this);
    }
    for (let i = 0; i < chunks.length; i++) stream.write(chunks[i]!);
    if (!stream.writableNeedDrain) return true;
    this.stalls++;
    return false;
  }

  whenFlushed(cb: () => void): void {
    const stream = this.stream;
    if (this.closed || stream.destroyed || stream.writableEnded) return;
    stream.write(EMPTY, () => cb());
  }

  get writableLength(): number {
    return this.stream.writableLength;
  }

  get writableNeedDrain(): boolean {
    return this.stream.writableNeedDrain;
  }

  pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.stream.pause();
  }

  resumeReading(): void {
    if (!this.readingPaused) return;
    this.readingPaused = false;
    this.stream.resume();
  }

  end(): void {
    this.flush();
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded) return;
    if (!this.server) return void stream.end();
    // 'finish': our last DATA and END_STREAM have been handed to nghttp2, so the reset goes out behind them.
    stream.end(() => {
      if (!stream.closed && !stream.destroyed && !stream.readableEnded) stream.close(process.getBuiltinModule('node:http2').constants.NGHTTP2_NO_ERROR);
    });
  }

  destroy(): void {
    const stream = this.stream;
    if (stream.destroyed) return;
    // Closed already (our NO_ERROR reset, or the peer's) but held open by unread data: drop it.
    if (stream.closed) stream.destroy();
    else stream.close(process.getBuiltinModule('node:http2').constants.NGHTTP2_CANCEL);
  }

  /** @internal */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    while (this.stream.writableCorked > 0) this.stream.uncork();
  }

  private onPeerEnd(): void {
    // The peer sent END_STREAM: end ours too (TCP without allowHalfOpen does the same on a FIN).
    this.end();
  }

  private closeLate(): void {
    if (this.closed) return;
    this.closed = true;
    this.listener.onTransportClose();
  }
}

const EMPTY = Buffer.alloc(0);

function uncork(transport: Http2StreamTransport): void {
  transport.flush();
}
