/**
 * The HTTP/2 adapter of the upgrade negotiation (RFC 8441): validates what
 * only an extended CONNECT has, describes the request for `negotiateUpgrade`
 * and formats the `:status 200` (or the refusal) as HTTP/2 header fields.
 *
 * Refusals, in the order they are checked (each is an HTTP/2 response on the
 * stream; the session and its other streams go on):
 *
 * | condition                                                        | status |
 * | ---------------------------------------------------------------- | ------ |
 * | `:method` other than CONNECT                                     | 405, `allow: CONNECT` |
 * | CONNECT without `:protocol` (a plain tunnel request)             | 400 |
 * | `:protocol` other than `websocket`                               | 501 |
 * | `:scheme`, `:path` or `:authority` missing or empty; `:scheme` not http/https; `:path` not a path | 400 |
 * | path not served                                                  | 404 |
 * | `sec-websocket-key` repeated or not the base64 of 16 bytes (one valid key is tolerated, see below) | 400 |
 * | `sec-websocket-version` not exactly `13`                         | 400, `sec-websocket-version: 13` |
 * | a body announced (`content-length` other than 0)                 | 400 |
 * | repeated `origin`, malformed subprotocol or extension list       | 400 |
 * | then the negotiation's own: Origin 403, `authorize`, 500         | |
 *
 * RFC 8441 §5 drops the key/accept exchange (`:protocol` supersedes it) but
 * forbids neither field. undici 7 (Node's WebSocket with an HTTP/2
 * dispatcher) sends `sec-websocket-key` over HTTP/2 anyway and fails the
 * handshake unless the 200 carries the matching `sec-websocket-accept`
 * (nodejs/undici#5681, closed as the server's business). So one valid key
 * is accepted and answered; peers that follow the RFC send none and get none.
 *
 * 426 is not used: it asks for an `Upgrade` header, which HTTP/2 forbids
 * (RFC 9113 §8.2.2). nghttp2 itself resets (RST_STREAM PROTOCOL_ERROR)
 * an extended CONNECT that lacks `:scheme`, `:path` or `:authority` before
 * it reaches this code; the checks here serve streams handed over by an
 * application (`WebSocketServer.handleStream`) as well.
 */

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { InvalidArgumentError, UpgradeRejection } from '../errors.js';
import { HeaderList } from '../http/headers.js';
import type { HeaderField } from '../http/head-parser.js';
import { isFieldValue, isToken } from '../http/tokens.js';
import { checkPath, readOffers, type NegotiationRequest, type NegotiationResult, type UpgradePolicy } from './negotiate.js';
import { acceptKey, isValidKey } from './key.js';
import { callHook } from './reject.js';
import { targetPath, type UpgradeInput, type UpgradeRequest } from './request.js';

/** The pseudo-header fields of an HTTP/2 request, as received. */
export interface Http2Pseudo {
  method: string | undefined;
  protocol: string | undefined;
  scheme: string | undefined;
  path: string | undefined;
  authority: string | undefined;
}

/** An HTTP/2 request's fields split into pseudo-headers and regular fields, plus the view hooks see. */
export interface Http2Input {
  pseudo: Http2Pseudo;
  input: UpgradeInput;
}

/**
 * Read a request's header block. `rawHeaders` (node:http2's flat
 * [name, value, ...] list, the 4th argument of the 'stream' event) keeps
 * repeats and order; without it the headers object is used.
 */
export function inputFromHttp2(
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[] | undefined,
  remote: { remoteAddress?: string; remotePort?: number },
): Http2Input {
  const fields: HeaderField[] = [];
  if (rawHeaders !== undefined) {
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      if (!rawHeaders[i]!.startsWith(':')) fields.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
    }
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith(':') || value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) fields.push([name, v]);
      else fields.push([name, String(value)]);
    }
  }
  const pseudo: Http2Pseudo = {
    method: single(headers[':method']),
    protocol: single(headers[':protocol']),
    scheme: single(headers[':scheme']),
    path: single(headers[':path']),
    authority: single(headers[':authority']),
  };
  return {
    pseudo,
    input: {
      method: pseudo.method ?? '',
      target: pseudo.path ?? '',
      httpVersion: '2.0',
      headers: new HeaderList(fields),
      remoteAddress: remote.remoteAddress,
      remotePort: remote.remotePort,
    },
  };
}

/** Whether a request is an RFC 8441 WebSocket request (what an attached server takes over from an application). */
export function isWebSocketConnect(headers: IncomingHttpHeaders): boolean {
  return headers[':method'] === 'CONNECT' && typeof headers[':protocol'] === 'string' && headers[':protocol'].toLowerCase() === 'websocket';
}

/** A validated extended CONNECT: the request to negotiate and the key some clients send anyway (see the header comment). */
export interface Http2Upgrade {
  request: NegotiationRequest;
  key: string | undefined;
}

/**
 * Validate an extended CONNECT and describe it for `negotiateUpgrade`.
 * `view` is `buildUpgradeRequest(input)`, built by the caller first so that
 * refusals can report it.
 * @throws UpgradeRejection with the status of the table above.
 */
export function readHttp2Upgrade(h2: Http2Input, view: UpgradeRequest, policy: UpgradePolicy): Http2Upgrade {
  const { pseudo, input } = h2;
  const h = input.headers;
  if (pseudo.method !== 'CONNECT') {
    throw new UpgradeRejection(405, 'A WebSocket over HTTP/2 is opened with an extended CONNECT (RFC 8441)', { allow: 'CONNECT' });
  }
  if (pseudo.protocol === undefined) {
    throw new UpgradeRejection(400, 'CONNECT without :protocol: this endpoint only accepts WebSockets (:protocol websocket, RFC 8441)');
  }
  if (pseudo.protocol.toLowerCase() !== 'websocket') {
    throw new UpgradeRejection(501, `Protocol ${JSON.stringify(pseudo.protocol)} is not supported here; use :protocol websocket`);
  }
  if (!pseudo.authority || !pseudo.path || !pseudo.scheme) {
    throw new UpgradeRejection(400, 'An extended CONNECT needs :scheme, :path and :authority (RFC 8441 §4)');
  }
  const scheme = pseudo.scheme.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') throw new UpgradeRejection(400, ':scheme must be "http" or "https"');
  const path = pseudo.path.startsWith('/') ? targetPath(pseudo.path) : null;
  if (path === null) throw new UpgradeRejection(400, ':path must be a path (and query)');
  checkPath(path, policy);
  const keys = h.all('sec-websocket-key');
  if (keys.length > 1 || (keys.length === 1 && !isValidKey(keys[0]!))) {
    throw new UpgradeRejection(400, 'Sec-WebSocket-Key is not needed over HTTP/2 (RFC 8441 §5); if sent, send it once, as the base64 of 16 bytes');
  }
  const versions = h.all('sec-websocket-version');
  if (versions.length !== 1 || versions[0] !== '13') {
    throw new UpgradeRejection(400, 'Unsupported or missing sec-websocket-version: this server speaks version 13', {
      'sec-websocket-version': '13',
    });
  }
  if (h.all('content-length').some((v) => v !== '0')) {
    throw new UpgradeRejection(400, 'A WebSocket CONNECT cannot announce a body: its DATA frames carry WebSocket frames');
  }
  const { protocols, extensions } = readOffers(h, policy.deflate !== null);
  const request: NegotiationRequest = {
    target: pseudo.path,
    path,
    authority: pseudo.authority,
    headers: h,
    origin: view.origin,
    protocols,
    extensions,
    remoteAddress: input.remoteAddress,
    remotePort: input.remotePort,
    view,
  };
  return { request, key: keys[0] };
}

/**
 * Fields HTTP/2 forbids (RFC 9113 §8.2.2; node:http2 throws on them) and the
 * ones the handshake owns.
 */
const MANAGED_H2 = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'content-length',
  'sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions', 'sec-websocket-key',
]);

/**
 * Extra header fields for an HTTP/2 response: names lower-cased (HTTP/2
 * requires it), connection-specific and managed ones dropped.
 * @throws InvalidArgumentError on a name that is not a token or a value with CR, LF or controls.
 */
export function http2Fields(headers: Record<string, string> | undefined, skip: ReadonlySet<string> = MANAGED_H2): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = Object.create(null);
  if (headers === undefined) return out;
  for (const [name, raw] of Object.entries(headers)) {
    const value = String(raw);
    if (!isToken(name)) throw new InvalidArgumentError(`Invalid header name ${JSON.stringify(name)}`);
    if (!isFieldValue(value)) throw new InvalidArgumentError(`Invalid value for header ${name}: control characters are not allowed`);
    const lower = name.toLowerCase();
    if (skip.has(lower)) continue;
    out[lower] = value;
  }
  return out;
}

/**
 * The `:status 200` header block accepting an extended CONNECT (RFC 8441 §5),
 * with `sec-websocket-accept` only for a client that sent a key.
 * @throws UpgradeRejection 500 (cause: the InvalidArgumentError) when `authorize` supplied an invalid header.
 */
export function http2Response(result: NegotiationResult, key?: string): OutgoingHttpHeaders {
  const out = callHook(() => http2Fields(result.headers));
  out[':status'] = 200;
  if (key !== undefined) out['sec-websocket-accept'] = acceptKey(key);
  if (result.protocol) out['sec-websocket-protocol'] = result.protocol;
  if (result.extensions) out['sec-websocket-extensions'] = result.extensions;
  return out;
}

/** A refusal as an HTTP/2 response: its header block (with content-type and content-length) and its body. */
export function http2Rejection(rejection: UpgradeRejection): { headers: OutgoingHttpHeaders; body: Buffer } {
  let status = rejection.status;
  let extra: OutgoingHttpHeaders;
  let text = rejection.body;
  try {
    extra = http2Fields(rejection.headers);
  } catch {
    // Hook-supplied headers were invalid (CR/LF...): never echo them.
    status = 500;
    extra = Object.create(null);
    text = 'Internal Server Error';
  }
  const body = Buffer.from(text, 'utf8');
  const headers: OutgoingHttpHeaders = { 'content-type': 'text/plain; charset=utf-8', ...extra };
  headers[':status'] = status;
  headers['content-length'] = body.length;
  return { headers, body };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
