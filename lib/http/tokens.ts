/**
 * HTTP field syntax (RFC 9110 §5.6) used by the upgrade handshake. Every
 * function here is a single left-to-right pass, so hostile values (runs of
 * 100k spaces, thousands of commas) cost linear time.
 */

// tchar (RFC 9110 5.6.2): visible ASCII minus separators.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** True when the UTF-16 code unit `code` is an RFC 9110 tchar. */
export function isTchar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/** True when `s` is a non-empty RFC 9110 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTchar(s.charCodeAt(i))) return false;
  return true;
}

/**
 * True when `s` may be sent as a field value: visible ASCII, obs-text, SP and
 * HTAB only. Rejects CR, LF, NUL and other controls (header injection).
 */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isFieldValueCode(s.charCodeAt(i))) return false;
  return true;
}

/** True when the code unit (or byte) `c` may appear in a field value (see {@link isFieldValue}). */
export function isFieldValueCode(c: number): boolean {
  return c === 0x09 || (c >= 0x20 && c !== 0x7f && c <= 0xff);
}

/** Remove leading and trailing optional whitespace (SP / HTAB only, unlike String#trim). */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isOws(s.charCodeAt(start))) start++;
  while (end > start && isOws(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** SP or HTAB. */
export function isOws(c: number): boolean {
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
  if (value.indexOf(',') === -1) {
    // One element (`Upgrade: websocket`, `Connection: Upgrade`): no list to build.
    const item = trimOws(value);
    return item !== '' && item.toLowerCase() === wanted;
  }
  for (const item of splitList(value)) if (item.toLowerCase() === wanted) return true;
  return false;
}
