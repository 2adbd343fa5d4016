import { HandshakeError } from '../errors.js';
import { parseExtensionHeader, type ExtensionOffer } from '../http/extension-header.js';
import {
  PerMessageDeflate,
  acceptServerResponse,
  clientOffer,
  negotiateServer,
  resolveDeflateOptions,
  type PerMessageDeflateOptions,
  type ValidDeflateOptions,
} from '../extensions/permessage-deflate.js';
import type { MessageTransform } from '../protocol/extension.js';

const PMD = 'permessage-deflate';

/** The negotiated extensions of one connection. */
export interface NegotiatedExtensions {
  /** Sec-WebSocket-Extensions value of the 101 ('' when none). */
  header: string;
  transform: MessageTransform | null;
}

const NONE: NegotiatedExtensions = Object.freeze({ header: '', transform: null });

/**
 * `perMessageDeflate` option -> its validated options, or null when disabled.
 * The one validation point, called when options are resolved (server
 * construction, client `connect()` before dialing), so a bad option fails
 * there and not on every handshake.
 * @throws InvalidArgumentError
 */
export function deflateOptions(option: boolean | PerMessageDeflateOptions | undefined): ValidDeflateOptions | null {
  if (option === undefined || option === false) return null;
  return resolveDeflateOptions(option === true ? {} : option);
}

/**
 * Server side: answer the client's offers. Only permessage-deflate is known;
 * other extensions are ignored (RFC 6455 §9.1: the server picks what it supports).
 */
export function negotiateServerExtensions(
  offers: ExtensionOffer[],
  deflate: ValidDeflateOptions | null,
  maxPayload: number,
): NegotiatedExtensions {
  if (deflate === null) return NONE;
  const pmd = offers.filter((o) => o.name.toLowerCase() === PMD);
  if (pmd.length === 0) return NONE;
  const result = negotiateServer(pmd, deflate);
  if (result === null) return NONE;
  return {
    header: result.response,
    transform: new PerMessageDeflate('server', result.params, { ...deflate, maxPayload }),
  };
}

/** Client side: the Sec-WebSocket-Extensions value to offer, or undefined. */
export function clientExtensionOffer(deflate: ValidDeflateOptions | null): string | undefined {
  return deflate === null ? undefined : clientOffer(deflate);
}

/**
 * Client side: check the server's Sec-WebSocket-Extensions answer. Anything we
 * did not offer, a malformed header or an unacceptable deflate answer fails
 * with ERR_WS_EXTENSION_MISMATCH (RFC 6455 §4.1, step 5 of the response checks).
 */
export function acceptClientExtensions(
  header: string | undefined,
  deflate: ValidDeflateOptions | null,
  maxPayload: number,
  details: { status: number; headers: Record<string, string> },
): NegotiatedExtensions {
  if (header === undefined) return NONE;
  let answer: ExtensionOffer[];
  try {
    answer = parseExtensionHeader(header);
  } catch (err) {
    throw mismatch(`In the server's response: ${(err as Error).message}`, details, err);
  }
  if (answer.length === 0) return NONE;
  for (const ext of answer) {
    if (deflate === null || ext.name.toLowerCase() !== PMD) {
      throw mismatch(`The server accepted extension "${ext.name}", which was not offered`, details);
    }
  }
  const opts = deflate as ValidDeflateOptions;
  let params;
  try {
    params = acceptServerResponse(answer, opts);
  } catch (err) {
    throw mismatch(`Unacceptable permessage-deflate response: ${(err as Error).message}`, details, err);
  }
  return { header, transform: new PerMessageDeflate('client', params, { ...opts, maxPayload }) };
}

function mismatch(message: string, details: { status: number; headers: Record<string, string> }, cause?: unknown): HandshakeError {
  return new HandshakeError('ERR_WS_EXTENSION_MISMATCH', message, details, cause === undefined ? undefined : { cause });
}
