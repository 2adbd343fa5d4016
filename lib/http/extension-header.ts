/**
 * The `Sec-WebSocket-Extensions` header grammar (RFC 6455 section 9.1, with
 * RFC 2616's implied linear white space):
 *
 *     extension-list  = 1#extension
 *     extension       = extension-token *( ";" extension-param )
 *     extension-param = token [ "=" (token | quoted-string) ]
 *
 * One left-to-right pass, no regular expressions and no backtracking, so the
 * cost is linear in the header length whatever the input. Results are plain
 * arrays: a parameter called `__proto__` is just a name.
 */

import { WebSocketError } from '../errors.js';
import { isTchar, isToken } from './tokens.js';

/** One extension offer (or answer) with its parameters, in header order. */
export interface ExtensionOffer {
  name: string;
  /** `true` for a parameter without a value; quoted values are unquoted. */
  params: Array<[name: string, value: string | true]>;
}

/**
 * Hard limits. A real client offers a handful of extensions with a few
 * parameters each; anything far beyond is an attack on the parser or on the
 * negotiation loop and is refused as malformed.
 */
export const MAX_EXTENSION_OFFERS = 64;
export const MAX_EXTENSION_PARAMS = 32;

/** Error code of the error thrown for a malformed header (the server answers 400). */
export const ERR_INVALID_EXTENSION_HEADER = 'ERR_WS_INVALID_EXTENSION_HEADER';

function fail(value: string, pos: number, what: string): never {
  const at = pos >= value.length ? 'at end of input' : `at position ${pos}`;
  throw new WebSocketError(ERR_INVALID_EXTENSION_HEADER,
    `Invalid Sec-WebSocket-Extensions header: ${what} ${at}`);
}

/**
 * Parse a `Sec-WebSocket-Extensions` value (several header lines may be joined
 * with ", "). Empty list elements (`a, , b`) are skipped as HTTP allows; at
 * least one extension is required.
 *
 * @throws WebSocketError with code `ERR_WS_INVALID_EXTENSION_HEADER` on
 *   malformed input or when more than {@link MAX_EXTENSION_OFFERS} offers or
 *   {@link MAX_EXTENSION_PARAMS} parameters per offer are present.
 */
export function parseExtensionHeader(value: string): ExtensionOffer[] {
  const offers: ExtensionOffer[] = [];
  const n = value.length;
  let i = 0;

  const skipWs = (): void => {
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09) break;
      i++;
    }
  };
  const token = (what: string): string => {
    const start = i;
    while (i < n && isTchar(value.charCodeAt(i))) i++;
    if (i === start) fail(value, i, `expected ${what}`);
    return value.slice(start, i);
  };
  const quoted = (): string => {
    // value[i] is the opening DQUOTE.
    i++;
    let out = '';
    let chunkStart = i;
    while (true) {
      if (i >= n) fail(value, i, 'unterminated quoted-string');
      const c = value.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        out += value.slice(chunkStart, i);
        i++;
        if (i >= n) fail(value, i, 'unterminated quoted-pair');
        chunkStart = i;
      } else if (c < 0x20 || c === 0x7f) {
        fail(value, i, 'control character in quoted-string');
      }
      i++;
    }
    out += value.slice(chunkStart, i);
    i++; // closing DQUOTE
    // RFC 6455 9.1: the unescaped value must itself be a token.
    if (!isToken(out)) fail(value, i, 'quoted parameter value that is not a token');
    return out;
  };

  while (true) {
    skipWs();
    if (i < n && value.charCodeAt(i) === 0x2c) { i++; continue; } // empty list element
    if (i >= n) break;

    if (offers.length === MAX_EXTENSION_OFFERS) {
      fail(value, i, `more than ${MAX_EXTENSION_OFFERS} extension offers`);
    }
    const offer: ExtensionOffer = { name: token('an extension name'), params: [] };
    offers.push(offer);
    skipWs();

    while (i < n && value.charCodeAt(i) === 0x3b) { // ';'
      i++;
      skipWs();
      if (offer.params.length === MAX_EXTENSION_PARAMS) {
        fail(value, i, `more than ${MAX_EXTENSION_PARAMS} parameters in one extension`);
      }
      const name = token('a parameter name');
      skipWs();
      let paramValue: string | true = true;
      if (i < n && value.charCodeAt(i) === 0x3d) { // '='
        i++;
        skipWs();
        paramValue = i < n && value.charCodeAt(i) === 0x22 ? quoted() : token('a parameter value');
        skipWs();
      }
      offer.params.push([name, paramValue]);
    }

    if (i < n && value.charCodeAt(i) !== 0x2c) fail(value, i, "expected ',' or ';'");
  }

  if (offers.length === 0) fail(value, i, 'expected at least one extension');
  return offers;
}

/**
 * Serialize offers to a header value. Values that are tokens are written bare;
 * anything else is written as a quoted-string (which, per RFC 6455, a peer may
 * refuse: only pass tokens for interoperable output).
 *
 * @throws WebSocketError (`ERR_WS_INVALID_EXTENSION_HEADER`) when a name is not a token.
 */
export function formatExtensionHeader(offers: ExtensionOffer[]): string {
  const parts: string[] = [];
  for (const offer of offers) {
    if (!isToken(offer.name)) {
      throw new WebSocketError(ERR_INVALID_EXTENSION_HEADER, `Extension name ${JSON.stringify(offer.name)} is not a token`);
    }
    let s = offer.name;
    for (const [name, value] of offer.params) {
      if (!isToken(name)) {
        throw new WebSocketError(ERR_INVALID_EXTENSION_HEADER, `Extension parameter name ${JSON.stringify(name)} is not a token`);
      }
      s += '; ' + name;
      if (value !== true) s += '=' + (isToken(value) ? value : quote(value));
    }
    parts.push(s);
  }
  return parts.join(', ');
}

function quote(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) {
      throw new WebSocketError(ERR_INVALID_EXTENSION_HEADER, 'Extension parameter value contains a character a header cannot carry');
    }
  }
  return '"' + value.replace(/["\\]/g, '\\$&') + '"';
}
