/**
 * HTTP/1.1 pieces for raw-socket tests: the upgrade request a test client sends, the
 * parse of what comes back, and the accept value, computed here (not with lib/) so a
 * bug in the library's handshake cannot hide itself.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';

/** The RFC 6455 §1.3 example key and its accept value. */
export const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The Sec-WebSocket-Accept value for `key` (RFC 6455 §4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/**
 * A valid upgrade request; `headers` entries replace the defaults by name
 * (case-insensitive), null removes one, new names are appended.
 */
export function upgradeRequest(
  options: { path?: string; method?: string; version?: string; headers?: Record<string, string | null> } = {},
): string {
  const fields: Array<[string, string]> = [
    ['Host', '127.0.0.1'],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', SAMPLE_KEY],
    ['Sec-WebSocket-Version', '13'],
  ];
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    const i = fields.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
    if (value === null) {
      if (i !== -1) fields.splice(i, 1);
    } else if (i !== -1) fields[i] = [name, value];
    else fields.push([name, value]);
  }
  let out = `${options.method ?? 'GET'} ${options.path ?? '/'} HTTP/${options.version ?? '1.1'}\r\n`;
  for (const [n, v] of fields) out += `${n}: ${v}\r\n`;
  return out + '\r\n';
}

/** A 101 answer to `key`, with `extra` header lines (each ending in CRLF). */
export function switchingProtocols(key: string, extra = ''): string {
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n${extra}\r\n`;
}

/** Header lines to lower-cased names; repeated names are joined with ", ". */
export function parseHeaders(lines: string[]): Record<string, string> {
  const h: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    h[k] = k in h ? `${h[k]}, ${v}` : v;
  }
  return h;
}

/** Split a raw HTTP response into its status line, lower-cased headers (repeats joined) and body. */
export function parseResponse(raw: Buffer): { statusLine: string; headers: Record<string, string>; body: string; head: string } {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.toString('latin1', 0, end === -1 ? raw.length : end + 4);
  const [statusLine, ...lines] = head.split('\r\n').filter((l) => l !== '');
  return { statusLine, headers: parseHeaders(lines), body: end === -1 ? '' : raw.toString('utf8', end + 4), head };
}

/**
 * For scripted raw servers: collect one HTTP request head from `socket`, then
 * call `then` with the head (through the blank line), its Sec-WebSocket-Key and the
 * bytes that came after it. The listener is removed first, so `then` owns the socket's
 * later bytes.
 */
export function onRequestHead(socket: Socket, then: (head: string, key: string, rest: Buffer) => void): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf('\r\n\r\n');
    if (end === -1) return;
    socket.off('data', onData);
    const head = buffered.toString('latin1', 0, end + 4);
    then(head, /\r\nSec-WebSocket-Key: ([^\r]*)\r\n/i.exec(head)?.[1] ?? '', buffered.subarray(end + 4));
  };
  socket.on('data', onData);
}
