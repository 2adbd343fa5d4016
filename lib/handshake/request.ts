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

/**
 * The user-facing view of `input`. The header record, the raw list and the
 * cookies are built on first access (most upgrades never read them; an
 * eager build cost ~0.5 KB per upgrade); the rest is plain fields.
 */
export function buildUpgradeRequest(input: UpgradeInput): UpgradeRequest {
  return new LazyUpgradeRequest(input);
}

class LazyUpgradeRequest implements UpgradeRequest {
  readonly method: string;
  readonly url: string;
  readonly path: string;
  readonly httpVersion: string;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly origin?: string;
  private readonly list: HeaderList;
  private record: Record<string, string> | null = null;
  private raw: string[] | null = null;
  private jar: Record<string, string> | null = null;

  constructor(input: UpgradeInput) {
    this.method = input.method;
    this.url = input.target;
    this.path = targetPath(input.target) ?? '';
    this.httpVersion = input.httpVersion;
    this.remoteAddress = input.remoteAddress;
    this.remotePort = input.remotePort;
    // What the header record holds for it: repeats joined with ", ".
    this.origin = input.headers.joined('origin');
    this.list = input.headers;
  }

  get headers(): Record<string, string> {
    return (this.record ??= this.list.toRecord());
  }

  set headers(value: Record<string, string>) {
    this.record = value;
  }

  get rawHeaders(): string[] {
    return (this.raw ??= this.list.toRaw());
  }

  set rawHeaders(value: string[]) {
    this.raw = value;
  }

  get cookies(): Record<string, string> {
    return (this.jar ??= parseCookies(this.headers['cookie']));
  }

  set cookies(value: Record<string, string>) {
    this.jar = value;
  }

  /** JSON.stringify and the like see the same fields as before (getters are not own properties). */
  toJSON(): UpgradeRequest {
    const { method, url, path, headers, rawHeaders, httpVersion, remoteAddress, remotePort, origin, cookies } = this;
    return { method, url, path, headers, rawHeaders, httpVersion, remoteAddress, remotePort, origin, cookies };
  }
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
