/**
 * The reconnect-delay hint a server may put in a close reason (1012 Service
 * Restart, 1013 Try Again Later): `retry-after=SECONDS`, a whole number of
 * seconds, alone or as one `;`- or space-separated item of the reason
 * (e.g. `restarting; retry-after=5`).
 */

/** Longest accepted number of seconds (a day): anything longer is not a hint a client should obey. */
const MAX_SECONDS = 86_400;
const KEY = 'retry-after=';

/** The hinted delay in seconds, or undefined when the reason carries none (or a malformed one). */
export function parseRetryAfter(reason: string): number | undefined {
  const at = reason.toLowerCase().indexOf(KEY);
  if (at < 0 || (at > 0 && reason[at - 1] !== ' ' && reason[at - 1] !== ';')) return undefined;
  let i = at + KEY.length;
  let value = 0;
  const start = i;
  while (i < reason.length && reason.charCodeAt(i) >= 48 && reason.charCodeAt(i) <= 57 && i - start < 6) {
    value = value * 10 + reason.charCodeAt(i) - 48;
    i++;
  }
  if (i === start || (i < reason.length && reason[i] !== ';' && reason[i] !== ' ')) return undefined;
  return value <= MAX_SECONDS ? value : undefined;
}
