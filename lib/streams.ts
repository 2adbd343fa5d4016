/**
 * createWebSocketStream: a Node Duplex over a WebSocket, with backpressure
 * both ways (a full readable side pauses the socket; a write completes once
 * the WebSocket's send queue is under its mark). Streaming single messages in
 * and out (`sendStream()`, `streamMessages`) lives in the WebSocket itself
 * (lib/outgoing-stream.ts, lib/incoming-stream.ts).
 */
import { Duplex, type DuplexOptions } from 'node:stream';
import { ConnectionClosedError, InvalidArgumentError, InvalidStateError } from './errors.js';
import { failStream } from './incoming-stream.js';
import type { WebSocket } from './websocket.js';

/** Options of {@link createWebSocketStream} (Duplex options; `objectMode` sets both sides). */
export interface WebSocketStreamOptions {
  /** Both sides in object mode (see the two options below). */
  objectMode?: boolean;
  /** One chunk per message: a Buffer for a binary message, a string for a text one. Default false:
   *  the messages' bytes as one byte stream. */
  readableObjectMode?: boolean;
  /** One message per write: a string is sent as text, anything else as binary. Default false: each
   *  write (Buffers; strings are encoded with `defaultEncoding`) is sent as one binary message. */
  writableObjectMode?: boolean;
  /** Decode the readable side to strings (byte mode), as `setEncoding()`. */
  encoding?: BufferEncoding;
  /** Default encoding of written strings in byte mode. */
  defaultEncoding?: BufferEncoding;
  /** The readable buffer above which the socket is paused (bytes, or messages in object mode). */
  readableHighWaterMark?: number;
  /** The writable buffer above which `write()` returns false. */
  writableHighWaterMark?: number;
  /** Keep the readable side open after the writable side ended (default true: `end()` starts the
   *  closing handshake, messages already on their way are still read). */
  allowHalfOpen?: boolean;
}

/**
 * A Duplex over `ws`: readable = the messages received, writable = messages
 * to send. A clean close ends the readable side; an abnormal one destroys the
 * stream with a ConnectionClosedError carrying the close code; a WebSocket
 * 'error' destroys it with that error (both only when the stream has an
 * 'error' listener, as under pipeline(); otherwise it just closes without
 * 'end', so a peer cannot crash the process). `end()` closes the WebSocket with 1000
 * after what was written; `destroy()` closes it (1000, or 1011 with an error).
 * Not for a WebSocket in `streamMessages` mode (InvalidArgumentError).
 */
export function createWebSocketStream(ws: WebSocket, options: WebSocketStreamOptions = {}): Duplex {
  if (ws.streamsMessages) {
    throw new InvalidArgumentError('createWebSocketStream() needs whole messages: the WebSocket was opened with streamMessages');
  }
  const readableObjectMode = options.readableObjectMode ?? options.objectMode ?? false;
  const writableObjectMode = options.writableObjectMode ?? options.objectMode ?? false;
  const duplexOptions: DuplexOptions = {
    readableObjectMode,
    writableObjectMode,
    allowHalfOpen: options.allowHalfOpen ?? true,
    emitClose: true,
    autoDestroy: true,
  };
  if (options.readableHighWaterMark !== undefined) duplexOptions.readableHighWaterMark = options.readableHighWaterMark;
  if (options.writableHighWaterMark !== undefined) duplexOptions.writableHighWaterMark = options.writableHighWaterMark;
  if (options.defaultEncoding !== undefined) duplexOptions.defaultEncoding = options.defaultEncoding;

  let paused = false;
  const onMessage = (data: Buffer, isBinary: boolean): void => {
    const chunk = readableObjectMode && !isBinary ? data.toString('utf8') : data;
    if (!duplex.push(chunk) && !paused) {
      paused = true;
      ws.pause();
    }
  };
  const onClose = (code: number, reason: string, wasClean: boolean): void => {
    detach();
    if (duplex.destroyed) return;
    if (wasClean) duplex.push(null);
    else failStream(duplex, new ConnectionClosedError(code, reason));
  };
  const onError = (err: Error): void => {
    if (!duplex.destroyed) failStream(duplex, err);
  };
  const detach = (): void => {
    ws.off('message', onMessage);
    ws.off('close', onClose);
    ws.off('error', onError);
  };

  const duplex = new Duplex({
    ...duplexOptions,
    read() {
      if (paused) {
        paused = false;
        ws.resume();
      }
    },
    write(chunk: unknown, _encoding: BufferEncoding, callback: (err?: Error | null) => void) {
      sendAndWait(ws, chunk, callback);
    },
    final(callback: (err?: Error | null) => void) {
      // The close frame leaves after every message written before it (the core keeps the order).
      if (ws.readyState === ws.OPEN) ws.close(1000);
      callback();
    },
    destroy(err: Error | null, callback: (err?: Error | null) => void) {
      if (ws.readyState === ws.OPEN) ws.close(err ? 1011 : 1000);
      if (paused) {
        paused = false;
        ws.resume();
      }
      if (ws.readyState === ws.CLOSED) {
        detach();
        callback(err);
        return;
      }
      // Errors from here on are the stream's no more; 'close' of the WebSocket completes the destroy.
      ws.off('message', onMessage);
      ws.once('close', () => {
        detach();
        callback(err);
      });
    },
  });
  if (options.encoding !== undefined) duplex.setEncoding(options.encoding);
  ws.on('message', onMessage);
  ws.on('close', onClose);
  ws.on('error', onError);
  return duplex;
}

/** Send one chunk as one message; `callback` once the WebSocket's send queue is back under its mark. */
function sendAndWait(ws: WebSocket, chunk: unknown, callback: (err?: Error | null) => void): void {
  if (ws.readyState !== ws.OPEN) {
    callback(new InvalidStateError(`WebSocket is not open (readyState ${ws.readyState}); the write was not sent`));
    return;
  }
  let sent = false;
  let below = false;
  let done = false;
  const finish = (err?: Error | null): void => {
    if (done) return;
    if (err) {
      done = true;
      ws.off('drain', onDrain);
      ws.off('close', onDrain);
      callback(err);
    } else if (sent && below) {
      done = true;
      callback();
    }
  };
  const onDrain = (): void => {
    ws.off('drain', onDrain);
    ws.off('close', onDrain);
    if (ws.readyState !== ws.OPEN) {
      finish(new InvalidStateError('WebSocket closed before the write was sent'));
      return;
    }
    below = true;
    finish();
  };
  below = ws.send(chunk as Buffer | string, (err) => {
    sent = true;
    finish(err);
  });
  if (!below && !done) {
    ws.on('drain', onDrain);
    ws.on('close', onDrain);
  }
  finish();
}
