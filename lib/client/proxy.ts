/**
 * Tunnelling a WebSocket through an HTTP proxy: an HTTP/1.1 CONNECT to the
 * server's host and port (RFC 9110 §9.3.6), over TCP or, for an https://
 * proxy, over TLS to the proxy. The WebSocket handshake (and the server's TLS,
 * for wss://) then runs inside the tunnel, end to end.
 */
import * as net from 'node:net';
import type * as tls from 'node:tls'; // the module is loaded on first use (startup RSS: bench/RESULTS.md, "Streams analysis")
import { settleOnce } from './settle.js';
import { HandshakeError, InvalidArgumentError, PROXY_ERROR_CODES } from '../errors.js';
import { HeaderList } from '../http/headers.js';
import type { HeadLimits } from '../http/limits.js';
import { proxyFromEnv, type ProxyEnv } from '../http/proxy-env.js';
import { isFieldValue, isToken } from '../http/tokens.js';

/** The proxy options of connect(). */
export interface ProxyOptions {
  /**
   * An HTTP proxy to tunnel through with CONNECT: `http://[user:pass@]host[:port]`
   * (port 80 by default) or `https://...` (TLS to the proxy, port 443 by
   * default). Credentials in the URL are sent as `Proxy-Authorization: Basic`.
   * Unset: the environment's `https_proxy` (wss://) or `http_proxy` (ws://)
   * and `no_proxy`, upper-case forms too. `false`: no proxy, whatever the environment says.
   */
  proxy?: string | URL | false;
  /** Extra header fields of the CONNECT request (e.g. `Proxy-Authorization` for a scheme other than Basic). */
  proxyHeaders?: Record<string, string>;
  /** TLS options for an https:// proxy (its CA, client certificate...), separate from `tls`, the server's. */
  proxyTls?: tls.ConnectionOptions;
}

/** Where and how to tunnel one connection. */
export interface ProxyRoute {
  url: URL;
  /** The CONNECT request's extra fields, validated, Proxy-Authorization included. */
  fields: Array<[string, string]>;
  tls: tls.ConnectionOptions | undefined;
}

/**
 * The proxy for `target`, or null to dial directly. `dropCredentials` (a
 * redirect left the origin) leaves out the credentials given in options
 * (the proxy URL's user:pass and a Proxy-Authorization in `proxyHeaders`);
 * credentials in an environment variable are the environment's policy and kept.
 * Throws InvalidArgumentError on a proxy URL that is not http(s) or a bad header.
 */
export function resolveProxy(target: URL, options: ProxyOptions, env: ProxyEnv, dropCredentials = false): ProxyRoute | null {
  if (options.proxy === false) return null;
  const fromOptions = options.proxy !== undefined;
  const raw = fromOptions ? String(options.proxy) : proxyFromEnv(target, env);
  if (raw === undefined || raw === '') return null;
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new InvalidArgumentError(`Invalid proxy URL ${JSON.stringify(raw)}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new InvalidArgumentError(`Proxy URL must be http://host:port or https://host:port, got ${JSON.stringify(raw)}`);
  }
  const strip = dropCredentials && fromOptions;
  const fields: Array<[string, string]> = [];
  if (!strip && (url.username !== '' || url.password !== '')) {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    fields.push(['Proxy-Authorization', `Basic ${Buffer.from(credentials).toString('base64')}`]);
  }
  for (const [name, value] of Object.entries(options.proxyHeaders ?? {})) {
    const lower = name.toLowerCase();
    if (!isToken(name)) throw new InvalidArgumentError(`Invalid proxy header name ${JSON.stringify(name)}: it must be an HTTP token`);
    if (!isFieldValue(String(value))) throw new InvalidArgumentError(`Invalid value for proxy header ${name}: CR, LF and control characters are not allowed`);
    if (lower === 'host') throw new InvalidArgumentError('The CONNECT request\'s Host is the server\'s authority; it cannot be set');
    if (lower === 'proxy-authorization') {
      if (strip) continue;
      const i = fields.findIndex(([n]) => n === 'Proxy-Authorization');
      if (i !== -1) fields.splice(i, 1);
    }
    fields.push([name, String(value)]);
  }
  return { url, fields, tls: options.proxyTls };
}

/** `host:port` as a request target: IPv6 in brackets. */
function authority(host: string, port: number): string {
  return `${net.isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * Open a tunnel to `host:port` through `route`'s proxy. Resolves with the
 * socket to the proxy once it answered 2xx to CONNECT (the bytes that follow
 * are the server's); rejects with a HandshakeError whose code is one of
 * {@link PROXY_ERROR_CODES}. The proxy's answer head obeys `limits`; the
 * whole exchange must end within `timeout` ms.
 */
export function openTunnel(route: ProxyRoute, host: string, port: number, limits: HeadLimits, timeout: number, signal?: AbortSignal): Promise<net.Socket> {
  const proxyHost = route.url.hostname.startsWith('[') ? route.url.hostname.slice(1, -1) : route.url.hostname;
  const secure = route.url.protocol === 'https:';
  const proxyPort = route.url.port === '' ? (secure ? 443 : 80) : Number(route.url.port);
  const where = `the proxy ${route.url.protocol}//${route.url.host}`;
  return new Promise((resolve, reject) => {
    const socket: net.Socket = secure
      ? process.getBuiltinModule('node:tls').connect({
        ...route.tls,
        host: proxyHost,
        port: proxyPort,
        servername: route.tls?.servername ?? (net.isIP(proxyHost) === 0 ? proxyHost : undefined),
      })
      : net.connect({ host: proxyHost, port: proxyPort });
    const stage = settleOnce({
      reject,
      release: () => socket.destroy(),
      signal,
      href: `${route.url.protocol}//${authority(host, port)}`,
      timeout,
      expired: () => new HandshakeError(PROXY_ERROR_CODES.TIMEOUT, `No answer to CONNECT ${authority(host, port)} from ${where} within ${timeout} ms`),
    });
    const fail = stage.fail;
    const onError = (err: Error): void => {
      fail(new HandshakeError(PROXY_ERROR_CODES.CONNECT, `Could not open a tunnel through ${where}: ${err.message}`, {}, { cause: err }));
    };
    socket.on('error', onError);
    const target = authority(host, port);
    let request = `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n`;
    for (const [name, value] of route.fields) request += `${name}: ${value}\r\n`;
    socket.write(`${request}\r\n`);
    const invalid = { tooLarge: PROXY_ERROR_CODES.RESPONSE_TOO_LARGE, malformed: PROXY_ERROR_CODES.INVALID_RESPONSE, message: `Invalid answer to CONNECT from ${where}` };
    stage.readAnswer(socket, limits, invalid, onError, (head, rest) => {
      const headers = new HeaderList(head.headers);
      if (head.status >= 200 && head.status <= 299) {
        stage.succeed();
        socket.off('error', onError);
        // A proxy has nothing to say after its 2xx; whatever came along is the server's.
        if (rest.length > 0) socket.unshift(rest);
        return resolve(socket);
      }
      stage.refuse(socket, onError, head, headers, rest, (text, details) =>
        new HandshakeError(
          PROXY_ERROR_CODES.REFUSED,
          `${where} refused the tunnel to ${target} with ${head.status}${text ? ` ${text}` : ''}` +
            (head.status === 407 ? ' (it wants credentials: put user:pass in the proxy URL or a Proxy-Authorization in proxyHeaders)' : ''),
          details,
        ),
      );
    });
  });
}
