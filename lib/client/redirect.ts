/**
 * connect()'s attempts in sequence: one per redirect hop when
 * `followRedirects` is on, each with its headers and cookies evaluated
 * afresh (lib/client/attempt.ts); Set-Cookie stored from every answer.
 */
import { attemptHeaders, storeCookies, type HeadersOption } from './attempt.js';
import { HandshakeError, InvalidArgumentError } from '../errors.js';
import type { CookieStore } from '../http/cookie-jar.js';
import { DEFAULT_MAX_REDIRECTS, REDIRECT_STATUSES, redirectTarget, sameOrigin } from '../http/redirect.js';
import type { WebSocket } from '../websocket.js';

export interface RedirectOptions {
  headers?: HeadersOption;
  cookies?: CookieStore;
  /** Follow 301, 302, 303, 307 and 308 answers to the upgrade request (default false: they are a HandshakeError with `location`). */
  followRedirects?: boolean;
  /** Most redirects followed before ERR_WS_TOO_MANY_REDIRECTS (default 10). */
  maxRedirects?: number;
}

/** One attempt to `url`: `crossed` says a redirect left the first origin (credentials must stay behind). */
export type Attempt = (url: URL, headers: Record<string, string>, crossed: boolean) => Promise<WebSocket>;

/**
 * Run attempts from `first` until one opens, following redirects as asked.
 * Once a hop left the first URL's origin, every later hop counts as crossed,
 * even one that comes back (as curl: credentials are not re-sent to a host
 * an untrusted redirect chose).
 */
export async function followRedirects(first: URL, options: RedirectOptions, attempt: Attempt): Promise<WebSocket> {
  const follow = options.followRedirects === true;
  const max = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  if (!Number.isInteger(max) || max < 0) throw new InvalidArgumentError(`Option maxRedirects must be a non-negative integer, not ${String(max)}`);
  const jar = options.cookies;
  if (jar !== undefined && (typeof jar.getCookieString !== 'function' || typeof jar.setCookie !== 'function')) {
    throw new InvalidArgumentError('Option cookies must have getCookieString(url) and setCookie(header, url) methods (a CookieJar)');
  }
  let url = first;
  let crossed = false;
  for (let hop = 0; ; hop++) {
    const headers = await attemptHeaders(url, options.headers, jar, crossed);
    let ws: WebSocket;
    try {
      ws = await attempt(url, headers, crossed);
    } catch (err) {
      if (!(err instanceof HandshakeError) || err.status === undefined || err.code.startsWith('ERR_WS_PROXY_')) throw err;
      await storeCookies(jar, err.rawHeaders, url);
      if (!REDIRECT_STATUSES.has(err.status)) throw err;
      const next = redirectTarget(url, err.headers?.location);
      if (!follow) throw withLocation(err, next);
      if (next === undefined) {
        throw new HandshakeError(
          'ERR_WS_INVALID_REDIRECT',
          `${url.href} redirected with ${err.status} to ${JSON.stringify(err.headers?.location ?? '')}, which is not an http(s) or ws(s) URL`,
          detailsOf(err),
        );
      }
      if (hop >= max) {
        throw new HandshakeError('ERR_WS_TOO_MANY_REDIRECTS', `More than ${max} redirects, the last from ${url.href} to ${next.href}`, {
          ...detailsOf(err),
          location: next.href,
        });
      }
      if (!sameOrigin(url, next)) crossed = true;
      url = next;
      continue;
    }
    await storeCookies(jar, ws.handshake?.rawHeaders, url);
    return ws;
  }
}

function detailsOf(err: HandshakeError): ConstructorParameters<typeof HandshakeError>[2] {
  return { status: err.status, headers: err.headers, rawHeaders: err.rawHeaders, body: err.body };
}

function withLocation(err: HandshakeError, next: URL | undefined): HandshakeError {
  if (next === undefined) return err;
  return new HandshakeError(err.code, `${err.message}; it redirects to ${next.href} (pass followRedirects: true to follow)`, {
    ...detailsOf(err),
    location: next.href,
  });
}
