// Connection failures as one line a person can act on: the TLS, DNS and TCP causes behind
// HandshakeError('ERR_WS_CONNECT') named in plain words instead of OpenSSL's internals.
import { HandshakeError } from '../errors.js';
import { reasonPhrase } from '../handshake/response.js';

/** OpenSSL verification codes that mean "this certificate's issuer is not trusted here". */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

const TRUST_HINT = 'pass --ca FILE to trust its certificate (or the CA that signed it), or --insecure to skip verification';

/** What a plain-text answer to our TLS ClientHello looks like to OpenSSL. */
const NOT_TLS = /wrong version number|packet length too long|unknown protocol|http request|record layer failure/i;

interface Cause {
  code?: string;
  message?: string;
  reason?: string;
}

/** One line (no trailing newline) saying why connecting to `url` failed. */
export function explainConnectError(err: unknown, url: string): string {
  const e = err as Error & Cause & { cause?: Cause };
  let target: URL | undefined;
  try {
    target = new URL(url);
  } catch {
    return e.message;
  }
  const secure = target.protocol === 'wss:' || target.protocol === 'https:';
  const host = target.hostname;
  const port = target.port || (secure ? '443' : '80');
  if (!(err instanceof HandshakeError)) return e.message;
  if (err.code === 'ERR_WS_UPGRADE_STATUS') {
    const body = err.body?.toString('utf8').split(/\r?\n/)[0]?.trim().slice(0, 200) ?? '';
    return `${err.message}${body ? `: ${body}` : ''}`;
  }
  const wrongScheme = secure ? '' : ' (is it wss:// rather than ws://?)';
  if (err.code === 'ERR_WS_INVALID_RESPONSE') return `${err.message}${wrongScheme}`;
  if (err.code !== 'ERR_WS_CONNECT') return err.message;
  const cause = e.cause ?? {};
  const code = cause.code ?? '';
  const text = cause.message ?? '';
  if (code === 'ECONNREFUSED') return `connection refused by ${host}:${port}: is a server listening there?`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the host name "${host}" (${code})`;
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `cannot reach ${host}:${port} (${code})`;
  if (secure && (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || NOT_TLS.test(text))) {
    return `the server did not answer TLS: is it ws:// rather than wss://? (${host}:${port})`;
  }
  if (UNTRUSTED.has(code)) return `the server's certificate is not trusted (${text}): ${TRUST_HINT}`;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return `the server's certificate is not valid now (${text}): --insecure skips verification`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the server's certificate is not for "${host}" (${cause.reason ?? text}): connect by a name it lists, or --insecure to skip verification`;
  }
  if (/alert certificate required/i.test(text)) return `the server requires a client certificate: pass --cert FILE and --key FILE`;
  // "8027...:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/...": keep the reason.
  const openssl = /SSL routines:[^:]*:([^:]+)/.exec(text);
  if (openssl) return `TLS with ${host}:${port} failed: ${openssl[1]}${/alert/.test(openssl[1]!) ? ' (sent by the server)' : ''}`;
  if (code === 'ECONNRESET' || /before the HTTP head/.test(text)) {
    return `${host}:${port} closed the connection before answering the upgrade${wrongScheme}`;
  }
  return `cannot connect to ${host}:${port}: ${(text || err.message).replace(/\s*\n\s*/g, ' ')}`;
}

/** The refused response as received, for --show-headers: status line, headers, blank line, body. */
export function refusedResponse(err: HandshakeError): string {
  let out = `HTTP/1.1 ${err.status} ${reasonPhrase(err.status!)}\n`;
  for (const [name, value] of Object.entries(err.headers ?? {})) out += `${name}: ${value}\n`;
  out += '\n';
  if (err.body && err.body.length > 0) out += `${err.body.toString('utf8')}${err.body.at(-1) === 0x0a ? '' : '\n'}`;
  return out;
}
