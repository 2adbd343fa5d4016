import type { Duplex } from 'node:stream';
import type { HeaderList } from '../http/headers.js';
import { listHasToken } from '../http/tokens.js';

/**
 * Collect the start of a refused upgrade's body for HandshakeError.body: stop
 * at Content-Length, the end of a chunked body, `limit` bytes, the peer's
 * close, or `waitMs` — whichever comes first — then call `done` once with the
 * (de-chunked) bytes. The caller destroys the socket afterwards.
 */
export function collectBody(
  socket: Duplex,
  status: number,
  headers: HeaderList,
  initial: Buffer,
  limit: number,
  waitMs: number,
  done: (body: Buffer) => void,
): void {
  const chunked = listHasToken(headers.joined('transfer-encoding') ?? '', 'chunked');
  const lengthHeader = headers.all('content-length');
  const declared = !chunked && lengthHeader.length === 1 && /^[0-9]+$/.test(lengthHeader[0]) ? Number(lengthHeader[0]) : -1;
  // 1xx, 204 and 304 never have a body (RFC 9112 §6.3).
  const target = status < 200 || status === 204 || status === 304 ? 0 : declared >= 0 ? Math.min(declared, limit) : limit;
  const parts: Buffer[] = [];
  let length = 0;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', finish);
    socket.off('close', finish);
    let raw = Buffer.concat(parts, length);
    if (raw.length > target) raw = raw.subarray(0, target);
    done(chunked ? decodeChunked(raw) : raw);
  };
  const add = (chunk: Buffer): void => {
    parts.push(chunk);
    length += chunk.length;
    if (length >= target || (chunked && endsChunked(parts))) finish();
  };
  function onData(chunk: Buffer): void {
    add(chunk);
  }
  const timer = setTimeout(finish, waitMs);
  if (target === 0) return finish();
  socket.on('data', onData);
  socket.on('end', finish);
  socket.on('close', finish);
  if (initial.length > 0) add(initial);
  if (!finished) socket.resume();
}

function endsChunked(parts: Buffer[]): boolean {
  const last = parts[parts.length - 1];
  // The last-chunk "0\r\n\r\n" (no trailers) usually arrives in one piece.
  return last.length >= 5 && last.subarray(last.length - 5).toString('latin1') === '0\r\n\r\n';
}

/** The data of the complete (and a trailing partial) chunk of a chunked body prefix. */
export function decodeChunked(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos < raw.length) {
    const eol = raw.indexOf('\r\n', pos);
    if (eol === -1) break;
    const size = parseInt(raw.toString('latin1', pos, eol).split(';')[0].trim(), 16);
    if (!(size > 0)) break;
    const start = eol + 2;
    const end = Math.min(start + size, raw.length);
    parts.push(raw.subarray(start, end));
    pos = end + 2;
  }
  return Buffer.concat(parts);
}
