import { HandshakeError } from '../errors.js';
import type { ResponseHead } from '../http/head-parser.js';
import type { HeaderList } from '../http/headers.js';
import { acceptClientExtensions, type NegotiatedExtensions } from './extensions.js';
import { acceptKey } from './key.js';
import type { ClientRequestPlan } from './client-request.js';
import { listHasToken } from '../http/tokens.js';

export interface AcceptedResponse {
  protocol: string;
  extensions: NegotiatedExtensions;
}

/**
 * Check a 101 answer against our request (RFC 6455 §4.1, client steps 1-6).
 * Throws HandshakeError: ERR_WS_INVALID_RESPONSE (not HTTP/1.1, Upgrade or
 * Connection wrong), ERR_WS_INVALID_ACCEPT, ERR_WS_PROTOCOL_MISMATCH (a
 * subprotocol we did not offer, or one when we offered none),
 * ERR_WS_EXTENSION_MISMATCH.
 */
export function checkSwitchingResponse(
  head: ResponseHead,
  headers: HeaderList,
  plan: ClientRequestPlan,
  maxPayload: number,
): AcceptedResponse {
  const details = { status: head.status, headers: headers.toRecord() };
  const fail = (code: string, message: string): HandshakeError => new HandshakeError(code, message, details);
  const [major, minor] = head.httpVersion.split('.').map(Number);
  if (major !== 1 || minor < 1) throw fail('ERR_WS_INVALID_RESPONSE', `The server answered with HTTP/${head.httpVersion}`);
  const upgrade = headers.all('upgrade');
  if (upgrade.length !== 1 || upgrade[0].toLowerCase() !== 'websocket') {
    throw fail('ERR_WS_INVALID_RESPONSE', 'The 101 response lacks "Upgrade: websocket"');
  }
  const connection = headers.joined('connection');
  if (connection === undefined || !listHasToken(connection, 'upgrade')) {
    throw fail('ERR_WS_INVALID_RESPONSE', 'The 101 response lacks "Connection: Upgrade"');
  }
  const accept = headers.all('sec-websocket-accept');
  if (accept.length !== 1 || accept[0] !== acceptKey(plan.key)) {
    throw fail('ERR_WS_INVALID_ACCEPT', 'Sec-WebSocket-Accept does not match the key sent: not a WebSocket server, or a broken proxy');
  }
  return checkAnswered(headers, plan, maxPayload, details);
}

/**
 * Check a successful answer to an RFC 8441 extended CONNECT (any 2xx,
 * RFC 9110 §9.3.6): the chosen subprotocol and extensions, as for HTTP/1.1;
 * there is no key to check over HTTP/2. Throws HandshakeError as
 * {@link checkSwitchingResponse} does.
 */
export function checkHttp2Response(status: number, headers: HeaderList, plan: ClientRequestPlan, maxPayload: number): AcceptedResponse {
  return checkAnswered(headers, plan, maxPayload, { status, headers: headers.toRecord() });
}

/** The subprotocol and extension answers of an accepted upgrade, either HTTP version. */
function checkAnswered(
  headers: HeaderList,
  plan: ClientRequestPlan,
  maxPayload: number,
  details: { status: number; headers: Record<string, string> },
): AcceptedResponse {
  const fail = (code: string, message: string): HandshakeError => new HandshakeError(code, message, details);
  const protocols = headers.all('sec-websocket-protocol');
  let protocol = '';
  if (protocols.length > 0) {
    if (protocols.length !== 1 || !plan.protocols.includes(protocols[0])) {
      const offered = plan.protocols.length === 0 ? 'none was offered' : `offered: ${plan.protocols.join(', ')}`;
      throw fail('ERR_WS_PROTOCOL_MISMATCH', `The server chose subprotocol ${JSON.stringify(protocols.join(', '))}, but ${offered}`);
    }
    protocol = protocols[0];
  }
  const extensions = acceptClientExtensions(headers.joined('sec-websocket-extensions'), plan.deflate, maxPayload, details);
  return { protocol, extensions };
}
