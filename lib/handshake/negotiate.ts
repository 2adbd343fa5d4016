/**
 * The WebSocket upgrade negotiation, independent of the HTTP version that
 * carries it: path, Origin policy, the `authorize` hook, subprotocol
 * selection and extension negotiation (RFC 6455 §4.2.2 step 4 onwards,
 * RFC 7692). A transport adapter checks what its HTTP version requires,
 * describes the request as a {@link NegotiationRequest}, calls
 * {@link negotiateUpgrade} and writes the success response from the
 * {@link NegotiationResult} (or the refusal from the UpgradeRejection).
 *
 * Adapters:
 * - HTTP/1.1 (`http1.ts`): GET, HTTP/1.1+, one Host, Upgrade/Connection
 *   tokens, Sec-WebSocket-Version 13 (else 426), Sec-WebSocket-Key, no body;
 *   answers `101 Switching Protocols` with Sec-WebSocket-Accept.
 * - HTTP/2 (RFC 8441, to come, next to `http1.ts`; this file does not change).
 *   The server first sends SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (§3); a client
 *   may then open a stream with an extended CONNECT (§4, §5): `:method CONNECT`,
 *   `:protocol websocket`, `:scheme` ("https" for wss, "http" for ws), `:path`
 *   (path and query of the URI) and `:authority`. The adapter checks those
 *   (no Host, Upgrade, Connection, Sec-WebSocket-Key or -Accept: HTTP/2 has no
 *   connection-specific fields and `:protocol` replaces the key/accept
 *   exchange; the §5.1 example still carries `sec-websocket-version: 13`) and
 *   supplies:
 *     target         `:path` as sent
 *     path           `targetPath(:path)`, or reject 400 when it is not a path
 *     authority      `:authority`
 *     headers        the regular (non-pseudo) fields as a HeaderList
 *     origin, protocols, extensions  from {@link readOffers}, the same as here
 *     remoteAddress/remotePort  of the session's socket
 *     view           `buildUpgradeRequest({ method: 'CONNECT', target: :path,
 *                    httpVersion: '2.0', headers, ... })`
 *   and answers `:status 200` with `sec-websocket-protocol`,
 *   `sec-websocket-extensions` and the result's extra `headers` (lower-cased,
 *   minus connection-specific ones); a rejection becomes `:status` plus body
 *   on the stream. The stream, not a socket, then carries the frames.
 *
 * Status codes, messages and the order of checks are those the HTTP/1.1
 * server has always answered with: 404 (path), 403 (Origin), the hook's
 * refusal (403 / its status) or 500 (a hook threw), then negotiation.
 */

import { InvalidArgumentError, UpgradeRejection } from '../errors.js';
import type { ValidDeflateOptions, PerMessageDeflateOptions } from '../extensions/permessage-deflate.js';
import { parseExtensionHeader, type ExtensionOffer } from '../http/extension-header.js';
import type { HeaderList } from '../http/headers.js';
import { parseTokenList } from '../http/tokens.js';
import type { MessageTransform } from '../protocol/extension.js';
import { runAuthorize, type Authorized, type Authorizer } from './authorize.js';
import { deflateOptions, negotiateServerExtensions } from './extensions.js';
import { originAllowed, type OriginPolicy } from './origin.js';
import { callHook } from './reject.js';
import type { SessionTerms } from './session-terms.js';
import type { UpgradeRequest } from './request.js';
import { selectProtocol, type ProtocolPolicy } from './subprotocol.js';

/** The server options the negotiation reads (a subset of `ServerOptions`). */
export interface UpgradePolicyOptions {
  path?: string | string[];
  allowedOrigins?: OriginPolicy;
  authorize?: Authorizer;
  protocols?: ProtocolPolicy;
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/** A server's negotiation settings, resolved and validated once by {@link resolveUpgradePolicy}. */
export interface UpgradePolicy {
  /** Accepted paths (exact match on the path without query), or null for any. */
  readonly paths: ReadonlySet<string> | null;
  readonly allowedOrigins: OriginPolicy | undefined;
  readonly authorize: Authorizer | undefined;
  readonly protocols: ProtocolPolicy | undefined;
  /** permessage-deflate options, null when disabled. */
  readonly deflate: ValidDeflateOptions | null;
  /** Largest inflated message in bytes (0 = no limit), for the deflate transform. */
  readonly maxPayload: number;
}

/**
 * Resolve the negotiation settings of one server. `maxPayload` is the
 * connection option already resolved (its default lives with the connection).
 * @throws InvalidArgumentError on a path that does not start with "/" or an
 *   invalid `perMessageDeflate`.
 */
export function resolveUpgradePolicy(options: UpgradePolicyOptions, maxPayload: number): UpgradePolicy {
  return Object.freeze({
    paths: normalizePaths(options.path),
    allowedOrigins: options.allowedOrigins,
    authorize: options.authorize,
    protocols: options.protocols,
    deflate: deflateOptions(options.perMessageDeflate),
    maxPayload,
  });
}

/** One upgrade request, as any HTTP version describes it. */
export interface NegotiationRequest {
  /** The request target as sent (HTTP/1.1 request-target, HTTP/2 `:path`). */
  target: string;
  /** Its path without the query, compared against the policy's paths. */
  path: string;
  /** Host (HTTP/1.1) or `:authority` (HTTP/2). */
  authority: string;
  /** The regular header fields as received. */
  headers: HeaderList;
  /** The Origin header, undefined when absent. */
  origin: string | undefined;
  /** Subprotocols the client offered, in its preference order (empty when none). */
  protocols: string[];
  /** Parsed Sec-WebSocket-Extensions offers (empty when absent or no extension is enabled). */
  extensions: ExtensionOffer[];
  remoteAddress?: string;
  remotePort?: number;
  /** What the hooks and the 'connection' event see. */
  view: UpgradeRequest;
}

/** An accepted negotiation: what the adapter puts in its success response, and what the connection runs with. */
export interface NegotiationResult {
  /** The subprotocol to answer with, undefined for none. */
  protocol: string | undefined;
  /** Sec-WebSocket-Extensions value of the answer ('' when none). */
  extensions: string;
  /** The negotiated extension transform; the caller owns it (dispose it if the connection is not made). */
  transform: MessageTransform | null;
  /** Extra response headers from `authorize`. */
  headers: Record<string, string> | undefined;
  /** `data` from `authorize`, for the 'connection' event. */
  data: unknown;
  /** Expiry or accept-then-close from `authorize`. */
  terms?: SessionTerms;
}

/** Points where the caller may stop a negotiation in progress. */
export interface NegotiationHooks {
  /**
   * Runs when `authorize` has settled, before anything else: the transport may
   * have gone or the server started closing meanwhile. Throw to stop (an
   * UpgradeRejection to answer with, anything else to be recognised by the caller).
   */
  afterAuthorize?: () => void;
}

/**
 * Negotiate an upgrade: path (404), Origin (403), `authorize` (its refusal,
 * or 500 when it throws), the subprotocol (500 when the selection function
 * throws or picks something not offered) and permessage-deflate.
 * @throws UpgradeRejection with the status to answer; a 500's `cause` holds the hook's exception.
 */
export async function negotiateUpgrade(
  request: NegotiationRequest,
  policy: UpgradePolicy,
  hooks: NegotiationHooks = {},
): Promise<NegotiationResult> {
  admit(request, policy);
  const auth = await runAuthorize(policy.authorize, request.view);
  hooks.afterAuthorize?.();
  return conclude(request, policy, auth);
}

/**
 * {@link negotiateUpgrade} for a policy without `authorize`: the same checks in the same order,
 * with nothing to wait for, so synchronously (no promise, no turn of the microtask queue per upgrade).
 * @throws UpgradeRejection as negotiateUpgrade does.
 */
export function negotiateWithoutHook(request: NegotiationRequest, policy: UpgradePolicy): NegotiationResult {
  if (policy.authorize !== undefined) throw new InvalidArgumentError('negotiateWithoutHook: the policy has an authorize hook');
  admit(request, policy);
  return conclude(request, policy, NOT_AUTHORIZED);
}

const NOT_AUTHORIZED: Authorized = Object.freeze({});

/** Path (404), then Origin (403): what is checked before `authorize`. */
function admit(request: NegotiationRequest, policy: UpgradePolicy): void {
  checkPath(request.path, policy);
  const { view } = request;
  if (!callHook(() => originAllowed(policy.allowedOrigins, view))) {
    throw new UpgradeRejection(403, 'Origin not allowed');
  }
}

/** Subprotocol and extensions, after `authorize` accepted with `auth`. */
function conclude(request: NegotiationRequest, policy: UpgradePolicy, auth: Authorized): NegotiationResult {
  const protocol = callHook(() => selectProtocol(policy.protocols, request.protocols, request.view));
  const negotiated = negotiateServerExtensions(request.extensions, policy.deflate, policy.maxPayload);
  return { protocol, extensions: negotiated.header, transform: negotiated.transform, headers: auth.headers, data: auth.data, terms: auth.terms };
}

/**
 * 404 unless the policy serves `path`. {@link negotiateUpgrade} runs it first;
 * an adapter may run it earlier, among its own checks, to keep the order its
 * HTTP version has always answered in (HTTP/1.1: before the Upgrade checks).
 */
export function checkPath(path: string, policy: Pick<UpgradePolicy, 'paths'>): void {
  if (policy.paths !== null && !policy.paths.has(path)) {
    throw new UpgradeRejection(404, `No WebSocket endpoint at ${path}`);
  }
}

/** What the WebSocket header fields of a request offer; the same fields in HTTP/1.1 and HTTP/2 (RFC 8441 §5). */
export interface Offers {
  origin: string | undefined;
  protocols: string[];
  extensions: ExtensionOffer[];
}

/**
 * Read Origin, Sec-WebSocket-Protocol and Sec-WebSocket-Extensions (the
 * latter only when `parseExtensions`: with no extension enabled there is
 * nothing to negotiate, so a malformed header is ignored rather than refused).
 * @throws UpgradeRejection 400 on a repeated Origin or a malformed list.
 */
export function readOffers(headers: HeaderList, parseExtensions: boolean): Offers {
  const origins = headers.all('origin');
  if (origins.length > 1) throw new UpgradeRejection(400, 'More than one Origin header');

  let protocols: string[] = [];
  const protocolHeader = headers.joined('sec-websocket-protocol');
  if (protocolHeader !== undefined) {
    const parsed = parseTokenList(protocolHeader);
    if (parsed === null) throw new UpgradeRejection(400, 'Malformed Sec-WebSocket-Protocol header');
    protocols = parsed;
  }

  let extensions: ExtensionOffer[] = [];
  const extensionHeader = parseExtensions ? headers.joined('sec-websocket-extensions') : undefined;
  if (extensionHeader !== undefined) {
    try {
      extensions = parseExtensionHeader(extensionHeader);
    } catch (err) {
      throw new UpgradeRejection(400, (err as Error).message);
    }
  }
  return { origin: origins[0], protocols, extensions };
}

function normalizePaths(path: string | string[] | undefined): ReadonlySet<string> | null {
  if (path === undefined) return null;
  const list = Array.isArray(path) ? path : [path];
  for (const p of list) {
    if (typeof p !== 'string' || !p.startsWith('/')) throw new InvalidArgumentError(`Option path entries must start with "/", got ${JSON.stringify(p)}`);
  }
  return new Set(list);
}
