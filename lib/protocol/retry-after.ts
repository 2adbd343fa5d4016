/**
 * The delay hint a server puts in a close reason so that reconnecting clients
 * spread out instead of coming back in the same second (after 1012 Service
 * Restart, 1013 Try Again Later, or any other code).
 *
 * One format: the token `retry-after=SECONDS`, SECONDS a decimal integer of
 * 1 to 9 digits (whole seconds, like HTTP's Retry-After). It may be the whole
 * reason (`retry-after=30`) or one word of it, separated by a space, `;` or
 * `,` (`deploy in progress; retry-after=30`). The name is matched without
 * regard to case; the first well-formed token wins.
 */

import { InvalidArgumentError } from '../errors.js';

const NAME = 'retry-after=';
/** 9 digits: under 32 years, and always a safe integer. */
const MAX_DIGITS = 9;

function isSeparator(c: number): boolean {
  return c === 0x20 || c === 0x3b /* ; */ || c === 0x2c /* , */ || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * The seconds of the first `retry-after=SECONDS` token in a close reason, or
 * undefined when there is none (malformed tokens are skipped). Linear in the
 * reason's length (at most 123 bytes on the wire anyway).
 */
export function parseRetryAfter(reason: string): number | undefined {
  if (typeof reason !== 'string') return undefined;
  const lower = reason.toLowerCase();
  let from = 0;
  for (;;) {
    const at = lower.indexOf(NAME, from);
    if (at === -1) return undefined;
    from = at + 1;
    if (at > 0 && !isSeparator(lower.charCodeAt(at - 1))) continue;
    let end = at + NAME.length;
    while (end < lower.length && isDigit(lower.charCodeAt(end))) end++;
    const digits = end - at - NAME.length;
    if (digits === 0 || digits > MAX_DIGITS) continue;
    if (end < lower.length && !isSeparator(lower.charCodeAt(end))) continue;
    return Number(lower.slice(at + NAME.length, end));
  }
}

/**
 * A close reason carrying `retry-after=SECONDS`: `reason` followed by the
 * token (after a space), or the token alone when `reason` is empty.
 * @throws InvalidArgumentError when `seconds` is not an integer from 0 to 999 999 999.
 */
export function withRetryAfter(reason: string, seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 999_999_999) {
    throw new InvalidArgumentError(`retryAfter must be a whole number of seconds from 0 to 999999999 (got ${String(seconds)})`);
  }
  const token = `${NAME}${seconds}`;
  return reason === '' ? token : `${reason} ${token}`;
}
