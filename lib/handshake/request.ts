import { parseCookies } from '../http/cookies.js';
import type { HeaderList } from '../http/headers.js';

/** What `authorize`, `allowedOrigins`, `protocols` and the 'connection' event see of an upgrade request. */
export interface UpgradeRequest {
  method: string;
  /** The request-target as sent, e.g. "/chat?room=1". */
  url: string;
  /** Its path without the query, e.g. "/chat" ("" when the target is not a usable path). */
  path: string;
  /** Lower-case names; repeated fields joined with ", " (Cookie with "; "). No prototype. */
  headers: Record<string, string>;
  /** Names and values as received: [name, value, name, value, ...]. */
  rawHeaders: string[];
  /** "1.1", "1.0", ... */
  httpVersion: string;
  remoteAddress?: string;
  remotePort?: number;
  /** The Origin header (browsers always send it), undefined when absent. */
  origin?: string;
  /** Cookies from the Cookie header, first occurrence of a name wins. */
  cookies: Record<string, string>;
}

/** The parts of a request head both server modes can provide. */
export interface UpgradeInput {
  method: string;
  target: string;
  httpVersion: string;
  headers: HeaderList;
  remoteAddress?: string;
  remotePort?: number;
}

/** The user-facing view of `input`. */
export function buildUpgradeRequest(input: UpgradeInput): UpgradeRequest {
  const headers = input.headers.toRecord();
  return {
    method: input.method,
    url: input.target,
    path: targetPath(input.target) ?? '',
    headers,
    rawHeaders: input.headers.toRaw(),
    httpVersion: input.httpVersion,
    remoteAddress: input.remoteAddress,
    remotePort: input.remotePort,
    origin: headers['origin'],
    cookies: parseCookies(headers['cookie']),
  };
}

/**
 * The path of a request-target: origin-form "/p?q" gives "/p" unchanged (no
 * dot-segment or %-normalisation, so path checks match what was sent);
 * absolute-form "http://h/p" (RFC 9112 §3.2.2) gives its URL pathname.
 * null for asterisk- and authority-form, which an upgrade cannot use.
 */
export function targetPath(target: string): string | null {
  if (target.startsWith('/')) {
    const q = target.indexOf('?');
    return q === -1 ? target : target.slice(0, q);
  }
  if (!/^(?:https?|wss?):\/\//i.test(target)) return null;
  try {
    return new URL(target).pathname;
  } catch {
    return null;
  }
}
