// Test helpers for handshake tests: raw sockets that send exact bytes and collect exact bytes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The RFC 6455 §1.3 example key and its accept value. */
export const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

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

/** Connect, send `data` (each element written separately), and collect everything until the peer closes. */
export function exchange(port: number, data: Array<string | Buffer> | string | Buffer): Promise<Buffer> {
  const chunks = Array.isArray(data) ? data : [data];
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (c) => received.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after the answer arrived still counts as an answer.
      if (received.length > 0 && err.code === 'ECONNRESET') return;
      reject(err);
    });
    socket.on('close', () => resolve(Buffer.concat(received)));
    for (const c of chunks) socket.write(c);
  });
}

/** Open a raw TCP connection to 127.0.0.1:`port`. */
export async function openRaw(port: number): Promise<RawPeer> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return new RawPeer(socket);
}

/** A raw TCP peer that accumulates what it receives. */
export class RawPeer {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  closed = false;
  private waiters: Array<() => void> = [];

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.received = Buffer.concat([this.received, c]);
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(data, () => resolve()));
  }

  async writeBytewise(data: string | Buffer): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    for (let i = 0; i < bytes.length; i++) {
      await this.write(bytes.subarray(i, i + 1));
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Wait until `predicate(received)` holds or the socket closes. */
  async until(predicate: (received: Buffer) => boolean): Promise<Buffer> {
    while (!predicate(this.received) && !this.closed) await new Promise<void>((r) => this.waiters.push(r));
    return this.received;
  }

  /** Wait for the end of an HTTP head. */
  head(): Promise<string> {
    return this.until((b) => b.includes('\r\n\r\n')).then((b) => {
      const end = b.indexOf('\r\n\r\n');
      return b.toString('latin1', 0, end === -1 ? b.length : end + 4);
    });
  }

  whenClosed(): Promise<Buffer> {
    return this.until(() => false);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** Split a raw HTTP response into its status line, lower-cased headers (repeats joined) and body. */
export function parseResponse(raw: Buffer): { statusLine: string; headers: Record<string, string>; body: string; head: string } {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.toString('latin1', 0, end === -1 ? raw.length : end + 4);
  const [statusLine, ...lines] = head.split('\r\n').filter((l) => l !== '');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { statusLine, headers, body: end === -1 ? '' : raw.toString('utf8', end + 4), head };
}

/** A client text frame (masked) carrying `text`, for pipelining tests. */
export function maskedTextFrame(text: string, mask = [1, 2, 3, 4]): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('short frames only');
  const frame = Buffer.alloc(6 + payload.length);
  frame[0] = 0x81;
  frame[1] = 0x80 | payload.length;
  for (let i = 0; i < 4; i++) frame[2 + i] = mask[i];
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ mask[i % 4];
  return frame;
}

/** A self-signed certificate for localhost / 127.0.0.1, made with openssl at test time; null if openssl is missing. */
export function selfSignedCert(): { key: Buffer; cert: Buffer } | null {
  const dir = mkdtempSync(join(tmpdir(), 'rfcws-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
