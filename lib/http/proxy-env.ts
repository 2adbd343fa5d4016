import { BlockList, isIP } from 'node:net';

/** The environment variables a proxy is read from (process.env's shape). */
export type ProxyEnv = Readonly<Record<string, string | undefined>>;

/**
 * The proxy the environment names for a ws:// or wss:// URL, as curl does:
 * wss:// (TLS to the server) uses `https_proxy` / `HTTPS_PROXY`, ws:// uses
 * `http_proxy` / `HTTP_PROXY`; the lower-case form wins when both are set
 * (curl and undici agree). Unlike undici, a wss:// URL does not fall back to
 * HTTP_PROXY (curl does not either). Returns undefined when no variable is
 * set, it is empty, or `NO_PROXY` / `no_proxy` excludes the host.
 */
export function proxyFromEnv(url: URL, env: ProxyEnv): string | undefined {
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  const value = secure ? pick(env, 'https_proxy') : pick(env, 'http_proxy');
  if (value === undefined) return undefined;
  const noProxy = pick(env, 'no_proxy');
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  if (noProxy !== undefined && bypassesProxy(url.hostname, port, noProxy)) return undefined;
  return value;
}

function pick(env: ProxyEnv, lower: string): string | undefined {
  const value = env[lower] ?? env[lower.toUpperCase()];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * Whether `NO_PROXY` excludes `hostname:port`. The list is split on commas
 * and white space; an entry is `*` (every host), a host name (that host and
 * its subdomains, as curl; `.example.com` and `*.example.com` mean the same),
 * an IP address (`[::1]` for IPv6), a CIDR block (`10.0.0.0/8`, as curl
 * 7.86+), each optionally followed by `:port` to exclude only that port.
 * Case is ignored; a trailing dot on a name is ignored.
 */
export function bypassesProxy(hostname: string, port: number, noProxy: string): boolean {
  const host = normalizeHost(hostname);
  const hostIp = isIP(host);
  for (const raw of noProxy.split(/[\s,]+/)) {
    if (raw === '') continue;
    if (raw === '*') return true;
    let entry = raw.toLowerCase();
    let entryPort = 0;
    const portMatch = /^(.*[^:]|\[.*\]):(\d+)$/.exec(entry);
    if (portMatch !== null && !(isIP(entry) === 6)) {
      entry = portMatch[1]!;
      entryPort = Number(portMatch[2]);
    }
    if (entryPort !== 0 && entryPort !== port) continue;
    entry = normalizeHost(entry);
    const slash = entry.indexOf('/');
    if (slash !== -1) {
      if (hostIp !== 0 && inCidr(host, hostIp, entry.slice(0, slash), entry.slice(slash + 1))) return true;
      continue;
    }
    if (isIP(entry) !== 0 || hostIp !== 0) {
      if (entry === host) return true;
      continue;
    }
    const suffix = entry.replace(/^\*?\.+/, '');
    if (suffix === '') continue;
    if (host === suffix || host.endsWith(`.${suffix}`)) return true;
  }
  return false;
}

function normalizeHost(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.') && isIP(h) === 0) h = h.slice(0, -1);
  return h;
}

function inCidr(host: string, hostFamily: number, network: string, bits: string): boolean {
  const family = isIP(network);
  const prefix = Number(bits);
  if (family === 0 || family !== hostFamily || !/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) return false;
  const list = new BlockList();
  const type = family === 4 ? 'ipv4' : 'ipv6';
  list.addSubnet(network, prefix, type);
  return list.check(host, type);
}
