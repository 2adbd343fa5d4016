import { InvalidArgumentError } from '../errors.js';
import { isFieldValue, isToken } from '../http/tokens.js';

const REASONS: Record<number, string> = {
  101: 'Switching Protocols',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  414: 'URI Too Long',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

/** Reason phrase for `status` ("" for codes we have no phrase for; it is optional on the wire). */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? '';
}

// Framing headers we always write ourselves; user-supplied copies would break the response.
const MANAGED = new Set(['connection', 'content-length', 'transfer-encoding']);

/**
 * Serialize extra header fields, skipping the ones in `skip` (lower-case).
 * Throws InvalidArgumentError on a name that is not a token or a value with
 * CR, LF or other controls (header injection).
 */
export function formatHeaders(headers: Record<string, string> | undefined, skip: ReadonlySet<string> = MANAGED): string {
  let out = '';
  if (headers === undefined) return out;
  for (const [name, raw] of Object.entries(headers)) {
    const value = String(raw);
    if (!isToken(name)) throw new InvalidArgumentError(`Invalid header name ${JSON.stringify(name)}`);
    if (!isFieldValue(value)) throw new InvalidArgumentError(`Invalid value for header ${name}: control characters are not allowed`);
    if (skip.has(name.toLowerCase())) continue;
    out += `${name}: ${value}\r\n`;
  }
  return out;
}

/**
 * A complete refusal: status line, `Connection: close`, a text/plain body with
 * its Content-Length, and `headers` (which may override Content-Type).
 */
export function rejectionResponse(status: number, headers: Record<string, string> | undefined, body: string): Buffer {
  const payload = Buffer.from(body, 'utf8');
  const extra = formatHeaders(headers);
  const hasType = headers !== undefined && Object.keys(headers).some((n) => n.toLowerCase() === 'content-type');
  const upgrade = headers !== undefined && Object.keys(headers).some((n) => n.toLowerCase() === 'upgrade');
  // RFC 9110 §7.8: whoever sends Upgrade also lists it in Connection.
  const head =
    `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n` +
    `Connection: ${upgrade ? 'Upgrade, close' : 'close'}\r\n` +
    (hasType ? '' : 'Content-Type: text/plain; charset=utf-8\r\n') +
    `Content-Length: ${payload.length}\r\n` +
    extra +
    '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}

// The 101's handshake fields are ours; user headers may not replace them.
const MANAGED_101 = new Set([
  'connection', 'content-length', 'transfer-encoding', 'upgrade',
  'sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions',
]);

/** The 101 Switching Protocols head accepting an upgrade (RFC 6455 §4.2.2 step 5). */
export function switchingProtocolsResponse(
  accept: string,
  protocol: string | undefined,
  extensions: string | undefined,
  headers?: Record<string, string>,
): string {
  return (
    'HTTP/1.1 101 Switching Protocols\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${accept}\r\n` +
    (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
    (extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : '') +
    formatHeaders(headers, MANAGED_101) +
    '\r\n'
  );
}
