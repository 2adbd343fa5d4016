import { isIP } from 'node:net';
import { InvalidArgumentError } from '../errors.js';
import type { ValidDeflateOptions } from '../extensions/permessage-deflate.js';
import { clientExtensionOffer } from './extensions.js';
import { generateKey } from './key.js';
import { isFieldValue, isToken } from '../http/tokens.js';

/** Everything needed to dial and to check the answer, computed before any I/O. */
export interface ClientRequestPlan {
  url: URL;
  secure: boolean;
  /** Host to dial (IPv6 without brackets). */
  host: string;
  port: number;
  /** SNI name: the host, unless it is an IP address. */
  servername: string | undefined;
  key: string;
  protocols: string[];
  deflate: ValidDeflateOptions | null;
  /** The full request head. */
  request: string;
  /**
   * The request's header fields in order (Host first, then the handshake's
   * own, then the caller's), validated: what an HTTP/2 request is built from,
   * minus Host (its `:authority`), Upgrade, Connection and Sec-WebSocket-Key.
   */
  fields: ReadonlyArray<readonly [string, string]>;
}

export interface ClientRequestOptions {
  protocols?: string[];
  headers?: Record<string, string>;
  origin?: string;
  deflate: ValidDeflateOptions | null;
}

// Fields the handshake owns: set through options, never through `headers`.
const RESERVED = new Set([
  'upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol',
  'sec-websocket-extensions', 'sec-websocket-accept', 'content-length', 'transfer-encoding',
]);

/**
 * Validate the URL and options and build the upgrade request (RFC 6455 §4.1).
 * Throws InvalidArgumentError on a URL that is not ws/wss (http/https are
 * mapped), has a fragment, or on a header name that is not a token, a value or
 * subprotocol with CR/LF/controls, a repeated subprotocol, or a handshake
 * field set through `headers`.
 */
export function planClientRequest(target: string | URL, options: ClientRequestOptions): ClientRequestPlan {
  const url = parseWebSocketUrl(target);
  const secure = url.protocol === 'wss:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);

  const protocols = options.protocols ?? [];
  if (!Array.isArray(protocols)) throw new InvalidArgumentError('Option protocols must be an array of strings');
  for (const p of protocols) {
    if (typeof p !== 'string' || !isToken(p)) throw new InvalidArgumentError(`Invalid subprotocol ${JSON.stringify(p)}: it must be an HTTP token`);
  }
  if (new Set(protocols).size !== protocols.length) throw new InvalidArgumentError('Subprotocols must be unique');

  const key = generateKey();
  const fields: Array<[string, string]> = [
    ['Host', url.host],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', '13'],
  ];
  if (options.origin !== undefined) fields.push(['Origin', checkValue('Origin', options.origin)]);
  if (protocols.length > 0) fields.push(['Sec-WebSocket-Protocol', protocols.join(', ')]);
  const offer = clientExtensionOffer(options.deflate);
  if (offer !== undefined) fields.push(['Sec-WebSocket-Extensions', offer]);
  if (url.username !== '' || url.password !== '') {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    fields.push(['Authorization', `Basic ${Buffer.from(credentials).toString('base64')}`]);
  }
  for (const [name, raw] of Object.entries(options.headers ?? {})) {
    const lower = name.toLowerCase();
    if (!isToken(name)) throw new InvalidArgumentError(`Invalid header name ${JSON.stringify(name)}: it must be an HTTP token`);
    if (RESERVED.has(lower)) throw new InvalidArgumentError(`Header ${name} is set by the handshake; use the matching option instead`);
    if (lower === 'origin' && options.origin !== undefined) throw new InvalidArgumentError('Origin given both as option and as header');
    const value = checkValue(name, String(raw));
    // A user Host or Authorization replaces ours (virtual hosts, explicit credentials).
    const existing = fields.findIndex(([n]) => n.toLowerCase() === lower && (lower === 'host' || lower === 'authorization'));
    if (existing !== -1) fields[existing] = [name, value];
    else fields.push([name, value]);
  }
  let request = `GET ${url.pathname}${url.search} HTTP/1.1\r\n`;
  for (const [name, value] of fields) request += `${name}: ${value}\r\n`;
  request += '\r\n';
  return {
    url,
    secure,
    host,
    port,
    servername: isIP(host) === 0 ? host : undefined,
    key,
    protocols,
    deflate: options.deflate,
    request,
    fields,
  };
}

/** Parse a ws:// or wss:// URL (http:// and https:// mapped); InvalidArgumentError otherwise, or with a fragment or no host. */
export function parseWebSocketUrl(target: string | URL): URL {
  let url: URL;
  try {
    url = new URL(String(target));
  } catch {
    throw new InvalidArgumentError(`Invalid URL ${JSON.stringify(String(target))}`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new InvalidArgumentError(`URL scheme must be ws: or wss:, got ${url.protocol}`);
  }
  if (url.hash !== '' || String(target).includes('#')) throw new InvalidArgumentError('A WebSocket URL cannot have a fragment');
  if (url.hostname === '') throw new InvalidArgumentError('The URL has no host');
  return url;
}

function checkValue(name: string, value: string): string {
  if (!isFieldValue(value)) throw new InvalidArgumentError(`Invalid value for header ${name}: CR, LF and control characters are not allowed`);
  return value;
}
