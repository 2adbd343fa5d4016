/**
 * What each connection attempt (the first, each redirect hop, each reconnect)
 * evaluates afresh: the `headers` option when it is a function (a token
 * refreshed before every attempt) and the cookie jar's Cookie for the URL;
 * and what it stores afterwards: the Set-Cookie fields of any answer.
 */
import { InvalidArgumentError } from '../errors.js';
import type { CookieStore } from '../http/cookie-jar.js';
import { withoutCredentials } from '../http/redirect.js';

/** Static extra request headers, or a function called with the URL before each attempt (sync or async). */
export type HeadersOption = Record<string, string> | ((url: URL) => Record<string, string> | Promise<Record<string, string>>);

/**
 * The extra request headers of one attempt to `url`. `crossed`: a redirect
 * left the first URL's origin (or went from wss to ws), so Authorization,
 * Cookie and Proxy-Authorization of `headers` are not sent, whether static or
 * returned by the function; the jar's cookies for `url` are (its own Domain
 * rules decide), appended to a Cookie of `headers`.
 */
export async function attemptHeaders(
  url: URL,
  headers: HeadersOption | undefined,
  jar: CookieStore | undefined,
  crossed: boolean,
): Promise<Record<string, string>> {
  let base: Record<string, string> = {};
  if (typeof headers === 'function') {
    const result = await headers(new URL(url.href));
    if (result === null || typeof result !== 'object') throw new InvalidArgumentError('The headers function must return an object of header names and values');
    base = result;
  } else if (headers !== undefined) {
    base = headers;
  }
  const out = crossed ? withoutCredentials(base) : { ...base };
  if (jar === undefined) return out;
  const fromJar = await jar.getCookieString(url.href);
  if (typeof fromJar !== 'string' || fromJar === '') return out;
  const cookieName = Object.keys(out).find((n) => n.toLowerCase() === 'cookie');
  if (cookieName === undefined) out.Cookie = fromJar;
  else out[cookieName] = `${out[cookieName]}; ${fromJar}`;
  return out;
}

/** Store every Set-Cookie of an answer (101, redirect or refusal) from `url` in the jar. */
export async function storeCookies(jar: CookieStore | undefined, rawHeaders: readonly string[] | undefined, url: URL): Promise<void> {
  if (jar === undefined || rawHeaders === undefined) return;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'set-cookie') continue;
    try {
      await jar.setCookie(rawHeaders[i + 1]!, url.href);
    } catch {
      // A jar may reject a cookie (tough-cookie throws on a foreign Domain): that cookie is just not kept.
    }
  }
}
