/**
 * HTTP field syntax (RFC 9110 §5.6) used by the upgrade handshake. Every
 * function here is a single left-to-right pass, so hostile values (runs of
 * 100k spaces, thousands of commas) cost linear time.
 */

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** True when `s` is a non-empty RFC 9110 token. */
export function isToken(s: string): boolean {
  return TOKEN_RE.test(s);
}

/**
 * True when `s` may be sent as a field value: visible ASCII, obs-text, SP and
 * HTAB only. Rejects CR, LF, NUL and other controls (header injection).
 */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x09) continue;
    if (c < 0x20 || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/** Remove leading and trailing optional whitespace (SP / HTAB only, unlike String#trim). */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isOws(s.charCodeAt(start))) start++;
  while (end > start && isOws(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Split a comma-separated list (`#element`), trimming OWS and dropping empty elements. */
export function splitList(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(',')) {
    const item = trimOws(part);
    if (item !== '') out.push(item);
  }
  return out;
}

/** Parse a `#token` list; null when an element is not a token. */
export function parseTokenList(value: string): string[] | null {
  const items = splitList(value);
  for (const item of items) if (!isToken(item)) return null;
  return items;
}

/** True when the comma-separated list contains `token`, compared ASCII case-insensitively. */
export function listHasToken(value: string, token: string): boolean {
  const wanted = token.toLowerCase();
  for (const item of splitList(value)) if (item.toLowerCase() === wanted) return true;
  return false;
}
