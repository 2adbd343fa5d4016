/**
 * permessage-deflate parameter negotiation (RFC 7692 section 7.1), both roles.
 */

import { HandshakeError, InvalidArgumentError } from '../errors.js';
import {
  MAX_WINDOW_BITS, PERMESSAGE_DEFLATE, readDeflateParams,
  type DeflateParams, type ValidDeflateOptions,
} from './deflate-options.js';
import { formatExtensionHeader, type ExtensionOffer } from '../http/extension-header.js';

/** Extension names are compared ASCII case-insensitively, like other HTTP tokens; parameter names are not. */
function isDeflateName(name: string): boolean {
  return name.length === PERMESSAGE_DEFLATE.length && name.toLowerCase() === PERMESSAGE_DEFLATE;
}

/** Error code of a client-side negotiation failure (the server answered something we cannot accept). */
export const ERR_EXTENSION_NEGOTIATION = 'ERR_WS_EXTENSION_NEGOTIATION';

/**
 * Server: pick the first acceptable permessage-deflate offer and build the
 * answer. Offers of other extensions are ignored. An offer with an unknown,
 * duplicate or out-of-range parameter is skipped (RFC 7692 7.1: the server
 * declines it). The server's own options never make an offer unacceptable;
 * they only tighten the answer.
 *
 * - `server_no_context_takeover` is answered when offered or configured.
 * - `client_no_context_takeover` is answered when offered or configured.
 * - `server_max_window_bits` is answered with min(offered, configured) when
 *   either is present.
 * - `client_max_window_bits` is answered only when the client offered it
 *   (RFC 7692 7.1.2.2 forbids it otherwise), with min(offered, configured),
 *   and only when that is a real limit. When the client did not offer it a
 *   configured limit cannot be imposed: the offer is still accepted and the
 *   server inflates with a full 15-bit window.
 *
 * `opts` were validated when the server was constructed (`resolveDeflateOptions`).
 *
 * @returns null when no offer is acceptable (the extension is then not used).
 */
export function negotiateServer(
  offers: ExtensionOffer[],
  opts: ValidDeflateOptions,
): { response: string; params: DeflateParams } | null {
  for (const offer of offers) {
    if (!isDeflateName(offer.name)) continue;
    const set = readDeflateParams(offer.params, true);
    if (typeof set === 'string') continue;

    const answer: Array<[string, string | true]> = [];
    const params: DeflateParams = {
      serverNoContextTakeover: set.serverNoContextTakeover || opts.serverNoContextTakeover === true,
      clientNoContextTakeover: set.clientNoContextTakeover || opts.clientNoContextTakeover === true,
      serverMaxWindowBits: MAX_WINDOW_BITS,
      clientMaxWindowBits: MAX_WINDOW_BITS,
    };
    if (params.serverNoContextTakeover) answer.push(['server_no_context_takeover', true]);
    if (params.clientNoContextTakeover) answer.push(['client_no_context_takeover', true]);

    if (set.serverMaxWindowBits !== undefined || opts.serverMaxWindowBits !== undefined) {
      params.serverMaxWindowBits = Math.min(set.serverMaxWindowBits ?? MAX_WINDOW_BITS, opts.serverMaxWindowBits ?? MAX_WINDOW_BITS);
      answer.push(['server_max_window_bits', String(params.serverMaxWindowBits)]);
    }

    if (set.clientMaxWindowBits !== undefined) {
      const offered = set.clientMaxWindowBits === true ? MAX_WINDOW_BITS : set.clientMaxWindowBits;
      params.clientMaxWindowBits = Math.min(offered, opts.clientMaxWindowBits ?? MAX_WINDOW_BITS);
      // Echo a value whenever one is in play so both ends agree on the exact window.
      if (set.clientMaxWindowBits !== true || opts.clientMaxWindowBits !== undefined) {
        answer.push(['client_max_window_bits', String(params.clientMaxWindowBits)]);
      }
    }

    return { response: formatExtensionHeader([{ name: PERMESSAGE_DEFLATE, params: answer }]), params };
  }
  return null;
}

/**
 * Client: the `Sec-WebSocket-Extensions` value to offer. Always includes a
 * bare `client_max_window_bits` (or its configured value) so a server may ask
 * for a smaller window instead of declining. `opts` were validated before
 * dialing (`resolveDeflateOptions`).
 */
export function clientOffer(opts: ValidDeflateOptions): string {
  const params: Array<[string, string | true]> = [];
  if (opts.serverNoContextTakeover) params.push(['server_no_context_takeover', true]);
  if (opts.clientNoContextTakeover) params.push(['client_no_context_takeover', true]);
  if (opts.serverMaxWindowBits !== undefined) params.push(['server_max_window_bits', String(opts.serverMaxWindowBits)]);
  params.push(['client_max_window_bits', opts.clientMaxWindowBits !== undefined ? String(opts.clientMaxWindowBits) : true]);
  return formatExtensionHeader([{ name: PERMESSAGE_DEFLATE, params }]);
}

/**
 * Client: validate the server's answer (parsed from its header) against what
 * {@link clientOffer} offered with the same `opts`. Call it only when the
 * response carried the header.
 *
 * Accepted even when not offered (RFC 7692 7.1.1): `server_no_context_takeover`,
 * `client_no_context_takeover`, `server_max_window_bits` (the server limiting itself).
 *
 * @throws HandshakeError (`ERR_WS_EXTENSION_NEGOTIATION`) when the answer names
 *   another extension, more than one, an unknown/duplicate/malformed parameter,
 *   omits `server_no_context_takeover` or `server_max_window_bits` we asked
 *   for, or exceeds a window size we asked for.
 */
export function acceptServerResponse(answer: ExtensionOffer[], opts: ValidDeflateOptions): DeflateParams {
  if (answer.length === 0) throw new InvalidArgumentError('acceptServerResponse needs the parsed Sec-WebSocket-Extensions of the response');
  const reject = (why: string): never => {
    throw new HandshakeError(ERR_EXTENSION_NEGOTIATION, `Server's Sec-WebSocket-Extensions is not acceptable: ${why}`);
  };
  for (const ext of answer) {
    if (!isDeflateName(ext.name)) reject(`extension ${JSON.stringify(ext.name)} was not offered`);
  }
  if (answer.length > 1) reject('permessage-deflate answered more than once');

  const set = readDeflateParams(answer[0]!.params, false);
  if (typeof set === 'string') return reject(set);

  if (opts.serverNoContextTakeover && !set.serverNoContextTakeover) {
    reject('server_no_context_takeover was requested but not confirmed');
  }
  let serverBits = MAX_WINDOW_BITS;
  if (set.serverMaxWindowBits !== undefined) {
    if (opts.serverMaxWindowBits !== undefined && set.serverMaxWindowBits > opts.serverMaxWindowBits) {
      reject(`server_max_window_bits=${set.serverMaxWindowBits} exceeds the ${opts.serverMaxWindowBits} requested`);
    }
    serverBits = set.serverMaxWindowBits;
  } else if (opts.serverMaxWindowBits !== undefined) {
    reject('server_max_window_bits was requested but not confirmed');
  }

  // We always offer client_max_window_bits (see clientOffer), so any 8..15 answer
  // is allowed unless it exceeds the value we offered.
  let clientBits = opts.clientMaxWindowBits ?? MAX_WINDOW_BITS;
  if (typeof set.clientMaxWindowBits === 'number') {
    if (opts.clientMaxWindowBits !== undefined && set.clientMaxWindowBits > opts.clientMaxWindowBits) {
      reject(`client_max_window_bits=${set.clientMaxWindowBits} exceeds the ${opts.clientMaxWindowBits} offered`);
    }
    clientBits = set.clientMaxWindowBits;
  }

  return {
    serverNoContextTakeover: set.serverNoContextTakeover,
    clientNoContextTakeover: set.clientNoContextTakeover || opts.clientNoContextTakeover === true,
    serverMaxWindowBits: serverBits,
    clientMaxWindowBits: clientBits,
  };
}
