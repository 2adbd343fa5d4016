/**
 * permessage-deflate options and negotiated parameters, with their defaults
 * and validation. Shared by negotiation (both roles) and the transform.
 */

import { InvalidArgumentError } from '../errors.js';

/** The registered extension name (RFC 7692 section 7). */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** Configuration of permessage-deflate for one side (server or client). */
export interface PerMessageDeflateOptions {
  /** Server: always send `server_no_context_takeover` (our compressor resets per message).
   *  Client: ask the server not to keep its compression context between messages. */
  serverNoContextTakeover?: boolean;
  /** Server: require the client to reset its compressor per message.
   *  Client: offer (and then honour) `client_no_context_takeover`. */
  clientNoContextTakeover?: boolean;
  /** 8..15. Server: cap on its own LZ77 window. Client: ask the server to use at most this. */
  serverMaxWindowBits?: number;
  /** 8..15. Server: cap the client's window (only sent when the client offered the parameter).
   *  Client: offer to use at most this window. */
  clientMaxWindowBits?: number;
  /** zlib compression level 0..9 (default 6). */
  level?: number;
  /** zlib memLevel 1..9 (default 8); lower uses less memory per compressor. */
  memLevel?: number;
  /** Messages smaller than this many bytes go out uncompressed (default 1024). */
  threshold?: number;
}

/** The parameters agreed in the handshake; window sizes are effective values (15 when absent). */
export interface DeflateParams {
  /** The server resets its compressor after every message. */
  serverNoContextTakeover: boolean;
  /** The client resets its compressor after every message. */
  clientNoContextTakeover: boolean;
  /** log2 of the window the server compresses with (the client inflates with it), 8..15. */
  serverMaxWindowBits: number;
  /** log2 of the window the client compresses with (the server inflates with it), 8..15. */
  clientMaxWindowBits: number;
}

/** zlib's own default; the same trade-off most WebSocket stacks ship with. */
export const DEFAULT_LEVEL = 6;
export const DEFAULT_MEM_LEVEL = 8;
/** Below ~1 KiB the deflate header and flush marker eat most of the gain and
 *  the threadpool round trip dominates the cost. */
export const DEFAULT_THRESHOLD = 1024;

export const MIN_WINDOW_BITS = 8;
export const MAX_WINDOW_BITS = 15;

/**
 * Check options given by a user. Returns nothing; throws on the first bad field.
 * @throws InvalidArgumentError
 */
export function validateDeflateOptions(opts: PerMessageDeflateOptions): void {
  for (const key of ['serverMaxWindowBits', 'clientMaxWindowBits'] as const) {
    const v = opts[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= MIN_WINDOW_BITS && v <= MAX_WINDOW_BITS)) {
      throw new InvalidArgumentError(`perMessageDeflate.${key} must be an integer from 8 to 15, got ${String(v)}`);
    }
  }
  if (opts.level !== undefined && !(Number.isInteger(opts.level) && opts.level >= 0 && opts.level <= 9)) {
    throw new InvalidArgumentError(`perMessageDeflate.level must be an integer from 0 to 9, got ${String(opts.level)}`);
  }
  if (opts.memLevel !== undefined && !(Number.isInteger(opts.memLevel) && opts.memLevel >= 1 && opts.memLevel <= 9)) {
    throw new InvalidArgumentError(`perMessageDeflate.memLevel must be an integer from 1 to 9, got ${String(opts.memLevel)}`);
  }
  if (opts.threshold !== undefined && !(typeof opts.threshold === 'number' && opts.threshold >= 0)) {
    throw new InvalidArgumentError(`perMessageDeflate.threshold must be a number >= 0, got ${String(opts.threshold)}`);
  }
}

declare const VALIDATED: unique symbol;

/**
 * Options that passed {@link validateDeflateOptions}, made by
 * {@link resolveDeflateOptions}: a frozen copy, so a later change to the
 * caller's object cannot slip past the check. Negotiation takes only these,
 * which lets the type system keep validation at the one place options are
 * resolved (server construction, client `connect()` before dialing).
 */
export type ValidDeflateOptions = Readonly<PerMessageDeflateOptions> & { readonly [VALIDATED]: true };

/**
 * Validate user options once and freeze a copy for negotiation.
 * @throws InvalidArgumentError
 */
export function resolveDeflateOptions(opts: PerMessageDeflateOptions): ValidDeflateOptions {
  validateDeflateOptions(opts);
  return Object.freeze({ ...opts }) as ValidDeflateOptions;
}

/**
 * Parse a window-bits parameter value: RFC 7692 section 7.1.2 asks for a
 * decimal integer without leading zeroes from 8 to 15. Returns NaN otherwise.
 */
export function parseWindowBits(value: string): number {
  if (value.length === 1) return value === '8' ? 8 : value === '9' ? 9 : NaN;
  if (value.length === 2 && value.charCodeAt(0) === 0x31) {
    const d = value.charCodeAt(1) - 0x30;
    if (d >= 0 && d <= 5) return 10 + d;
  }
  return NaN;
}

/** The four RFC 7692 parameters as found in one offer or answer. */
export interface DeflateParamSet {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** undefined when absent. */
  serverMaxWindowBits?: number;
  /** undefined when absent, `true` when present without a value. */
  clientMaxWindowBits?: number | true;
}

/**
 * Read the parameters of one permessage-deflate offer/answer. Returns a
 * string saying what is wrong for an unknown, duplicate or malformed
 * parameter (a server then skips the offer, a client fails).
 * `clientWindowMayBeBare` is true for offers (RFC 7692 7.1.2.2) and false for answers.
 */
export function readDeflateParams(
  params: ReadonlyArray<readonly [string, string | true]>,
  clientWindowMayBeBare: boolean,
): DeflateParamSet | string {
  const set: DeflateParamSet = { serverNoContextTakeover: false, clientNoContextTakeover: false };
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (seen.has(name)) return `duplicate parameter ${name}`;
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
        if (value !== true) return 'server_no_context_takeover takes no value';
        set.serverNoContextTakeover = true;
        break;
      case 'client_no_context_takeover':
        if (value !== true) return 'client_no_context_takeover takes no value';
        set.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits': {
        const bits = value === true ? NaN : parseWindowBits(value);
        if (Number.isNaN(bits)) return 'server_max_window_bits needs a value from 8 to 15';
        set.serverMaxWindowBits = bits;
        break;
      }
      case 'client_max_window_bits': {
        if (value === true) {
          if (!clientWindowMayBeBare) return 'client_max_window_bits needs a value from 8 to 15';
          set.clientMaxWindowBits = true;
          break;
        }
        const bits = parseWindowBits(value);
        if (Number.isNaN(bits)) return 'client_max_window_bits must be from 8 to 15';
        set.clientMaxWindowBits = bits;
        break;
      }
      default:
        return `unknown parameter ${JSON.stringify(name)}`;
    }
  }
  return set;
}
