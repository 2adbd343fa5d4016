/**
 * The HTTP/1.1 adapter of the upgrade negotiation (RFC 6455 §4.2.1, §4.2.2):
 * validates what only HTTP/1.1 has (GET, HTTP/1.1+, Host, the Upgrade and
 * Connection tokens, Sec-WebSocket-Version, Sec-WebSocket-Key, no body),
 * describes the request for `negotiateUpgrade` and formats the 101 from its
 * result. Both server modes (our own head parser, node:http's
 * IncomingMessage) come through here, so they validate the very same data.
 */

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { UpgradeRejection } from '../errors.js';
import type { ExtensionOffer } from '../http/extension-header.js';
import type { RequestHead } from '../http/head-parser.js';
import { HeaderList } from '../http/headers.js';
import { listHasToken } from '../http/tokens.js';
import { acceptKey, isValidKey } from './key.js';
import { checkPath, readOffers, type NegotiationRequest, type NegotiationResult, type UpgradePolicy } from './negotiate.js';
import { callHook } from './reject.js';
import { targetPath, type UpgradeInput, type UpgradeRequest } from './request.js';
import { switchingProtocolsResponse } from './response.js';

/** What a valid HTTP/1.1 upgrade request carries, for negotiation. */
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

/** The request head our own parser read from `socket` (standalone mode). */
export function inputFromHead(head: RequestHead, socket: Socket): UpgradeInput {
  return {
    method: head.method,
    target: head.target,
    httpVersion: head.httpVersion,
    headers: new HeaderList(head.headers),
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
  };
}

/** The request head node:http parsed (attached mode). */
export function inputFromIncoming(req: IncomingMessage): UpgradeInput {
  return {
    method: req.method ?? '',
    target: req.url ?? '',
    httpVersion: req.httpVersion,
    headers: HeaderList.fromRaw(req.rawHeaders),
    remoteAddress: req.socket?.remoteAddress,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * Validate an upgrade request. Throws UpgradeRejection carrying the status to
 * answer: 405 (not GET, with Allow), 505 (not HTTP/1.1+), 400 (Host missing or
 * repeated, unusable target, Connection without "upgrade", bad key, a body,
 * repeated Origin, malformed subprotocol or extension list), 404 (path not
 * served: checked here, before the Upgrade checks, so that a plain GET for a
 * path nobody serves still gets 404), 426 with `Upgrade: websocket` (not a
 * WebSocket upgrade at all, or a Sec-WebSocket-Version other than 13, then
 * also with `Sec-WebSocket-Version: 13`).
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
  const host = h.single('host');
  if (typeof host !== 'string' || host === '') {
    throw new UpgradeRejection(400, 'Exactly one non-empty Host header is required');
  }
  const path = targetPath(input.target);
  if (path === null) throw new UpgradeRejection(400, 'The request target must be a path or an absolute http(s)/ws(s) URL');
  checkPath(path, options);
  const upgrade = h.joined('upgrade');
  if (upgrade === undefined || !listHasToken(upgrade, 'websocket')) {
    throw new UpgradeRejection(426, 'This endpoint only accepts WebSocket upgrades (Upgrade: websocket)', UPGRADE_HEADERS);
  }
  const connection = h.joined('connection');
  if (connection === undefined || !listHasToken(connection, 'upgrade')) {
    throw new UpgradeRejection(400, 'The Connection header must include "Upgrade"');
  }
  if (h.single('sec-websocket-version') !== '13') {
    throw new UpgradeRejection(426, 'Unsupported Sec-WebSocket-Version: this server speaks version 13', {
      ...UPGRADE_HEADERS,
      'Sec-WebSocket-Version': '13',
    });
  }
  const key = h.single('sec-websocket-key');
  if (typeof key !== 'string' || !isValidKey(key)) {
    throw new UpgradeRejection(400, 'Sec-WebSocket-Key must be sent once, as the base64 of 16 bytes');
  }
  // Bytes after the head are WebSocket frames; a body would be misread as frames (and is a smuggling vector).
  const lengths = h.all('content-length');
  if (h.all('transfer-encoding').length > 0 || lengths.some((v) => v !== '0')) {
    throw new UpgradeRejection(400, 'An upgrade request cannot carry a body');
  }
  const { protocols, extensions } = readOffers(h, options.parseExtensions);
  return { key, path, protocols, extensions };
}

/** A validated HTTP/1.1 upgrade: its key (for the 101) and the request to negotiate. */
export interface Http1Upgrade {
  key: string;
  request: NegotiationRequest;
}

/**
 * Validate `input` ({@link validateUpgrade}, with the server's policy) and
 * describe it for `negotiateUpgrade`. `view` is `buildUpgradeRequest(input)`,
 * built by the caller first so that refusals can report it.
 * @throws UpgradeRejection
 */
export function readHttp1Upgrade(input: UpgradeInput, view: UpgradeRequest, policy: UpgradePolicy): Http1Upgrade {
  const valid = validateUpgrade(input, { paths: policy.paths, parseExtensions: policy.deflate !== null });
  return {
    key: valid.key,
    request: {
      target: input.target,
      path: valid.path,
      authority: input.headers.single('host') as string,
      headers: input.headers,
      origin: view.origin,
      protocols: valid.protocols,
      extensions: valid.extensions,
      remoteAddress: input.remoteAddress,
      remotePort: input.remotePort,
      view,
    },
  };
}

/**
 * The 101 Switching Protocols head for an accepted negotiation.
 * @throws UpgradeRejection 500 (cause: the InvalidArgumentError) when `authorize` supplied an invalid header.
 */
export function http1Response(key: string, result: NegotiationResult): string {
  return callHook(() => switchingProtocolsResponse(acceptKey(key), result.protocol, result.extensions, result.headers));
}
