import { UpgradeRejection } from '../errors.js';
import { parseExtensionHeader, type ExtensionOffer } from '../http/extension-header.js';
import { isValidKey } from './key.js';
import { targetPath, type UpgradeInput } from './request.js';
import { listHasToken, parseTokenList } from '../http/tokens.js';

/** What a valid upgrade request carries, for negotiation. */
export interface ValidatedUpgrade {
  key: string;
  path: string;
  /** Client's subprotocols in preference order (empty when none offered). */
  protocols: string[];
  /** Parsed Sec-WebSocket-Extensions offers (empty when not parsed or absent). */
  extensions: ExtensionOffer[];
}

export interface ValidateOptions {
  /** Accepted paths (exact match), or null for any path. */
  paths: ReadonlySet<string> | null;
  /** Parse Sec-WebSocket-Extensions (only when an extension is enabled; malformed -> 400). */
  parseExtensions: boolean;
}

const UPGRADE_HEADERS = { Upgrade: 'websocket' };

/**
 * The one validation of an upgrade request, shared by the standalone and
 * attached server modes. Throws UpgradeRejection carrying the status to answer:
 * 405 (not GET, with Allow), 505 (not HTTP/1.1+), 400 (Host missing or
 * repeated, unusable target, Connection without "upgrade", bad key, repeated
 * key/origin, a body, malformed subprotocol or extension list), 404 (path not served),
 * 426 with `Upgrade: websocket` (not a WebSocket upgrade at all, or a
 * Sec-WebSocket-Version other than 13, then also with `Sec-WebSocket-Version: 13`).
 */
export function validateUpgrade(input: UpgradeInput, options: ValidateOptions): ValidatedUpgrade {
  const h = input.headers;
  if (input.method !== 'GET') {
    throw new UpgradeRejection(405, 'A WebSocket upgrade must use the GET method', { Allow: 'GET' });
  }
  const [major, minor] = input.httpVersion.split('.').map(Number);
  if (major !== 1 || !(minor >= 1)) {
    throw new UpgradeRejection(505, 'A WebSocket upgrade requires HTTP/1.1');
  }
  const hosts = h.all('host');
  if (hosts.length !== 1 || hosts[0] === '') {
    throw new UpgradeRejection(400, 'Exactly one non-empty Host header is required');
  }
  const path = targetPath(input.target);
  if (path === null) throw new UpgradeRejection(400, 'The request target must be a path or an absolute http(s)/ws(s) URL');
  if (options.paths !== null && !options.paths.has(path)) {
    throw new UpgradeRejection(404, `No WebSocket endpoint at ${path}`);
  }
  const upgrade = h.joined('upgrade');
  if (upgrade === undefined || !listHasToken(upgrade, 'websocket')) {
    throw new UpgradeRejection(426, 'This endpoint only accepts WebSocket upgrades (Upgrade: websocket)', UPGRADE_HEADERS);
  }
  const connection = h.joined('connection');
  if (connection === undefined || !listHasToken(connection, 'upgrade')) {
    throw new UpgradeRejection(400, 'The Connection header must include "Upgrade"');
  }
  const versions = h.all('sec-websocket-version');
  if (versions.length !== 1 || versions[0] !== '13') {
    throw new UpgradeRejection(426, 'Unsupported Sec-WebSocket-Version: this server speaks version 13', {
      ...UPGRADE_HEADERS,
      'Sec-WebSocket-Version': '13',
    });
  }
  const keys = h.all('sec-websocket-key');
  if (keys.length !== 1 || !isValidKey(keys[0])) {
    throw new UpgradeRejection(400, 'Sec-WebSocket-Key must be sent once, as the base64 of 16 bytes');
  }
  if (h.all('origin').length > 1) throw new UpgradeRejection(400, 'More than one Origin header');
  // Bytes after the head are WebSocket frames; a body would be misread as frames (and is a smuggling vector).
  const lengths = h.all('content-length');
  if (h.all('transfer-encoding').length > 0 || lengths.some((v) => v !== '0')) {
    throw new UpgradeRejection(400, 'An upgrade request cannot carry a body');
  }

  let protocols: string[] = [];
  const protocolHeader = h.joined('sec-websocket-protocol');
  if (protocolHeader !== undefined) {
    const parsed = parseTokenList(protocolHeader);
    if (parsed === null) throw new UpgradeRejection(400, 'Malformed Sec-WebSocket-Protocol header');
    protocols = parsed;
  }

  let extensions: ExtensionOffer[] = [];
  const extensionHeader = options.parseExtensions ? h.joined('sec-websocket-extensions') : undefined;
  if (extensionHeader !== undefined) {
    try {
      extensions = parseExtensionHeader(extensionHeader);
    } catch (err) {
      throw new UpgradeRejection(400, (err as Error).message);
    }
  }
  return { key: keys[0], path, protocols, extensions };
}
