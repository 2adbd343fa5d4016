/**
 * The Node-only options of the browser-compatible classes, checked in the constructor: an
 * invalid one (a header value with CR/LF, a bad limit, bad permessage-deflate parameters...)
 * throws a TypeError there (the option's error as `cause`), as WebIDL does for a bad
 * dictionary member, rather than surfacing as the standard's indistinguishable error + close
 * 1006 once the dial fails. The URL and subprotocols keep their SyntaxError DOMExceptions.
 */
import { InvalidArgumentError } from '../errors.js';
import { planClientRequest } from '../handshake/client-request.js';
import { deflateOptions } from '../handshake/extensions.js';
import { CLIENT_HEAD_LIMITS, positiveInteger, resolveLimits } from '../http/limits.js';
import { resolveOptions } from '../options.js';
import type { NodeWebSocketOptions } from './dial.js';

/** Throws TypeError when connect() would refuse `options` for this URL and subprotocol list. */
export function checkNodeOptions(url: URL, protocols: string[], options: NodeWebSocketOptions): void {
  try {
    resolveOptions(options);
    resolveLimits(options, CLIENT_HEAD_LIMITS);
    if (options.handshakeTimeout !== undefined) positiveInteger('handshakeTimeout', options.handshakeTimeout);
    if (options.http !== undefined && options.http !== '1.1' && options.http !== '2' && options.http !== 'auto') {
      throw new InvalidArgumentError(`Option http must be '1.1', '2' or 'auto', not ${String(options.http)}`);
    }
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
      throw new InvalidArgumentError('Option signal must be an AbortSignal');
    }
    // The headers as a function are evaluated per attempt, so only a record can be checked now.
    const headers = typeof options.headers === 'function' ? undefined : options.headers;
    planClientRequest(url, { protocols, headers, origin: options.origin, deflate: deflateOptions(options.perMessageDeflate ?? true) });
  } catch (err) {
    throw new TypeError((err as Error).message, { cause: err });
  }
}
