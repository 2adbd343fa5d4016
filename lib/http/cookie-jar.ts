import { isIP } from 'node:net';
import { trimOws } from './tokens.js';

/**
 * What connect()'s `cookies` option needs of a cookie jar. tough-cookie's
 * CookieJar satisfies it (its methods return promises when given no
 * callback); so does {@link CookieJar}.
 */
export interface CookieStore {
  /** The Cookie header value for a request to `url` ('' for none). */
  getCookieString(url: string): string | Promise<string>;
  /** Store one Set-Cookie header value received from `url`. */
  setCookie(header: string, url: string): unknown;
}

export interface CookieJarOptions {
  /** Most cookies kept in all (default 3000, RFC 6265 §6.1's minimum); the least recently set go first. */
  maxCookies?: number;
  /** Most cookies per domain (default 50, RFC 6265 §6.1). */
  maxCookiesPerDomain?: number;
  /** Longest Set-Cookie value accepted, in bytes (default 4096, RFC 6265 §6.1); longer ones are ignored. */
  maxCookieSize?: number;
  /** The clock of expiry, epoch ms (tests pass their own). */
  now?: () => number;
}

interface Cookie {
  name: string;
  value: string;
  domain: string;
  /** Sent only to `domain` itself (no Domain attribute). */
  hostOnly: boolean;
  path: string;
  secure: boolean;
  /** Epoch ms; Infinity for a session cookie. */
  expires: number;
  created: number;
  /** Insertion order, for eviction and ties. */
  seq: number;
}

/**
 * A small in-memory cookie jar with the RFC 6265 rules a WebSocket client
 * meets: Domain (host-only without it; a Domain must domain-match the host,
 * have a dot, and not be set by an IP host other than itself), Path (default
 * path of §5.1.4, path-match of §5.1.4), Secure (set only from and sent only
 * to wss:/https:), Expires and Max-Age (Max-Age wins; a past date deletes).
 * HttpOnly is kept out of the way (there is no script here); SameSite is not
 * applied (a WebSocket client has no site). Bounded: see {@link CookieJarOptions}.
 * No public-suffix list: a server can set a cookie for its parent domain.
 */
export class CookieJar implements CookieStore {
  private readonly cookies = new Map<string, Cookie>();
  private readonly maxCookies: number;
  private readonly maxPerDomain: number;
  private readonly maxSize: number;
  private readonly now: () => number;
  private seq = 0;

  constructor(options: CookieJarOptions = {}) {
    this.maxCookies = options.maxCookies ?? 3000;
    this.maxPerDomain = options.maxCookiesPerDomain ?? 50;
    this.maxSize = options.maxCookieSize ?? 4096;
    this.now = options.now ?? Date.now;
  }

  /** Cookies currently kept (expired ones included until the next access). */
  get size(): number {
    return this.cookies.size;
  }

  setCookie(header: string, url: string): void {
    if (header.length > this.maxSize) return;
    const target = new URL(url);
    const host = hostOf(target);
    const secureOrigin = isSecure(target);
    const parts = header.split(';');
    const pair = parts[0]!;
    const eq = pair.indexOf('=');
    if (eq === -1) return;
    const name = trimOws(pair.slice(0, eq));
    const value = trimOws(pair.slice(eq + 1));
    if (name === '' || /[\x00-\x1f\x7f]/.test(name + value)) return;
    const now = this.now();
    let expires = Infinity;
    let maxAge: number | undefined;
    let domain = '';
    let path = '';
    let secure = false;
    for (const attr of parts.slice(1)) {
      const i = attr.indexOf('=');
      const key = trimOws(i === -1 ? attr : attr.slice(0, i)).toLowerCase();
      const val = i === -1 ? '' : trimOws(attr.slice(i + 1));
      if (key === 'expires') {
        const t = Date.parse(val);
        if (!Number.isNaN(t)) expires = t;
      } else if (key === 'max-age') {
        if (/^-?[0-9]+$/.test(val)) maxAge = Number(val);
      } else if (key === 'domain') {
        domain = val.replace(/^\./, '').toLowerCase();
      } else if (key === 'path') {
        path = val;
      } else if (key === 'secure') {
        secure = true;
      }
    }
    if (maxAge !== undefined) expires = maxAge <= 0 ? -Infinity : now + maxAge * 1000;
    if (secure && !secureOrigin) return;
    let hostOnly = true;
    if (domain !== '' && domain !== host) {
      if (isIP(host) !== 0 || !domain.includes('.') || !host.endsWith(`.${domain}`)) return;
      hostOnly = false;
    } else if (domain === host) {
      hostOnly = false;
    }
    if (domain === '') domain = host;
    if (!path.startsWith('/')) path = defaultPath(target.pathname);
    const key = `${domain};${path};${name}`;
    const existing = this.cookies.get(key);
    this.cookies.delete(key);
    if (expires <= now) return;
    this.cookies.set(key, { name, value, domain, hostOnly, path, secure, expires, created: existing?.created ?? now, seq: this.seq++ });
    this.evict(domain, now);
  }

  getCookieString(url: string): string {
    const target = new URL(url);
    const host = hostOf(target);
    const secure = isSecure(target);
    const path = target.pathname || '/';
    const now = this.now();
    const matched: Cookie[] = [];
    for (const [key, c] of this.cookies) {
      if (c.expires <= now) {
        this.cookies.delete(key);
        continue;
      }
      if (c.hostOnly ? host !== c.domain : host !== c.domain && !(isIP(host) === 0 && host.endsWith(`.${c.domain}`))) continue;
      if (!pathMatches(path, c.path) || (c.secure && !secure)) continue;
      matched.push(c);
    }
    // RFC 6265 §5.4 step 2: longer paths first, then earlier creation.
    matched.sort((a, b) => b.path.length - a.path.length || a.created - b.created || a.seq - b.seq);
    return matched.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  private evict(domain: string, now: number): void {
    let inDomain = 0;
    for (const c of this.cookies.values()) if (c.domain === domain) inDomain++;
    // Map order is insertion order: the first entries were set least recently.
    for (const [key, c] of this.cookies) {
      if (inDomain <= this.maxPerDomain && this.cookies.size <= this.maxCookies) break;
      if (c.expires <= now || (c.domain === domain && inDomain > this.maxPerDomain)) {
        if (c.domain === domain) inDomain--;
        this.cookies.delete(key);
      } else if (this.cookies.size > this.maxCookies) {
        if (c.domain === domain) inDomain--;
        this.cookies.delete(key);
      }
    }
  }
}

function hostOf(url: URL): string {
  const h = url.hostname.toLowerCase();
  return h.startsWith('[') ? h.slice(1, -1) : h;
}

function isSecure(url: URL): boolean {
  return url.protocol === 'wss:' || url.protocol === 'https:';
}

/** RFC 6265 §5.1.4: the request path up to, not including, its last '/'; '/' when that is empty. */
function defaultPath(requestPath: string): string {
  if (!requestPath.startsWith('/')) return '/';
  const last = requestPath.lastIndexOf('/');
  return last <= 0 ? '/' : requestPath.slice(0, last);
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/';
}
