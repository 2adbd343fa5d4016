import { trimOws } from './tokens.js';

/**
 * Parse a Cookie header (RFC 6265 §5.4 shape: `a=1; b=2`) into a prototype-less
 * record. The first occurrence of a name wins; surrounding double quotes are
 * removed and %-escapes decoded when they are valid (kept raw otherwise).
 */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (header === undefined) return out;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const name = trimOws(pair.slice(0, eq));
    if (name === '' || name in out) continue;
    let value = trimOws(pair.slice(eq + 1));
    if (value.length >= 2 && value.charCodeAt(0) === 0x22 && value.charCodeAt(value.length - 1) === 0x22) {
      value = value.slice(1, -1);
    }
    out[name] = decode(value);
  }
  return out;
}

function decode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
