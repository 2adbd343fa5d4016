/** Redirect rules of the upgrade request: which answers redirect, where to, what credentials survive. */

/** Statuses a client follows when asked to (RFC 9110 §15.4); 300, 304 and 305 are not redirects to follow. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Default of connect()'s `maxRedirects`: browsers allow about 20, curl 30 when told to follow; 10 is plenty for a WebSocket endpoint. */
export const DEFAULT_MAX_REDIRECTS = 10;

/**
 * The next URL of a redirect: `location` resolved against `from` (a relative
 * reference keeps the origin), http: mapped to ws: and https: to wss:, the
 * fragment dropped (a WebSocket URL has none). Returns undefined when it is
 * not a URL or not http(s)/ws(s).
 */
export function redirectTarget(from: URL, location: string | undefined): URL | undefined {
  if (location === undefined || location === '') return undefined;
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    return undefined;
  }
  if (next.protocol === 'http:') next = new URL(`ws:${next.href.slice('http:'.length)}`);
  else if (next.protocol === 'https:') next = new URL(`wss:${next.href.slice('https:'.length)}`);
  if ((next.protocol !== 'ws:' && next.protocol !== 'wss:') || next.hostname === '') return undefined;
  next.hash = '';
  return next;
}

/** Same scheme, host and port (default ports made explicit): credentials may go on. */
export function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.hostname === b.hostname && portOf(a) === portOf(b);
}

function portOf(u: URL): string {
  return u.port !== '' ? u.port : u.protocol === 'wss:' || u.protocol === 'https:' ? '443' : '80';
}

/** Header fields that carry credentials and are dropped once a redirect left the origin (as curl and undici do). */
export const CREDENTIAL_FIELDS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** `headers` without the credential fields. */
export function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (!CREDENTIAL_FIELDS.has(name.toLowerCase())) out[name] = value;
  return out;
}
