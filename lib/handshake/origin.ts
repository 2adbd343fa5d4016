import type { UpgradeRequest } from './request.js';

/**
 * Which Origins may open a connection (defence against cross-site WebSocket
 * hijacking, RFC 6455 §10.2). A list is compared ASCII case-insensitively
 * against the serialized origin ("https://app.example:8443"); a request
 * without Origin does not match a list (fail closed: browsers always send it,
 * so use the function form to admit non-browser clients that omit it).
 */
export type OriginPolicy = string[] | ((origin: string | undefined, req: UpgradeRequest) => boolean);

/** True when `policy` admits the request (no policy admits everything). */
export function originAllowed(policy: OriginPolicy | undefined, req: UpgradeRequest): boolean {
  if (policy === undefined) return true;
  if (typeof policy === 'function') return policy(req.origin, req) === true;
  if (req.origin === undefined) return false;
  const origin = req.origin.toLowerCase();
  return policy.some((allowed) => allowed.toLowerCase() === origin);
}
