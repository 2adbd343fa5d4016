import { UpgradeRejection } from '../errors.js';
import { internalError } from './reject.js';
import type { UpgradeRequest } from './request.js';
import { closeTerms, expiryTerms, type SessionTerms } from './session-terms.js';

/**
 * The answer of an `authorize` hook. `true` / `{ accept: true }` accepts,
 * optionally attaching `data` (the 3rd argument of 'connection') and extra
 * `headers` for the 101 (e.g. Set-Cookie). `false` refuses with 403;
 * `{ accept: false, status, headers, body }` refuses with that response.
 *
 * Session expiry: an accepting result may carry `expiresAt` (a Date or epoch
 * ms); the connection is then closed at that time with `closeCode` (default
 * 4001) and `closeReason` (default 'session expired'), as `ws.expireAt()`
 * does. Accept-then-close: `{ accept: false, closeCode, closeReason }` (no
 * `status`) completes the upgrade, then sends that close frame at once, for
 * browser clients that see no HTTP status; `closeCode` must be 4000-4999. A
 * bad `expiresAt`, `closeCode` or `closeReason` is the hook's bug: 500.
 */
export type AuthorizeResult =
  | true
  | false
  | {
    accept: true;
    data?: unknown;
    headers?: Record<string, string>;
    expiresAt?: Date | number;
    closeCode?: number;
    closeReason?: string;
  }
  | { accept: false; status: number; headers?: Record<string, string>; body?: string }
  | { accept: false; status?: undefined; closeCode: number; closeReason?: string; headers?: Record<string, string> };

export type Authorizer = (req: UpgradeRequest) => Promise<AuthorizeResult> | AuthorizeResult;

/** An accepted request's attachments. */
export interface Authorized {
  data?: unknown;
  headers?: Record<string, string>;
  /** Expiry or accept-then-close, when the hook asked for one. */
  terms?: SessionTerms;
}

/**
 * Run the hook. Resolves on acceptance; rejects with UpgradeRejection on
 * refusal (403 for `false`, the given status otherwise, or the UpgradeRejection
 * the hook threw) and with a 500
 * UpgradeRejection, whose `cause` is the original error, when the hook throws,
 * returns something unexpected or an invalid status.
 */
export async function runAuthorize(hook: Authorizer | undefined, req: UpgradeRequest): Promise<Authorized> {
  if (hook === undefined) return {};
  let result: AuthorizeResult;
  try {
    result = await hook(req);
  } catch (err) {
    // A deliberate refusal thrown from deep inside the application's own code keeps its status.
    if (err instanceof UpgradeRejection) throw err;
    throw internalError(err);
  }
  if (result === true) return {};
  if (result === false) throw new UpgradeRejection(403, 'Forbidden');
  if (typeof result === 'object' && result !== null) {
    if (result.accept === true) return { data: result.data, headers: result.headers, terms: expiryTerms(result) };
    if (result.accept === false) {
      if (result.status === undefined && 'closeCode' in result) return { headers: result.headers, terms: closeTerms(result) };
      const { status } = result;
      if (!Number.isInteger(status) || status < 400 || status > 599) {
        throw internalError(new Error(`authorize() refused with invalid status ${String(status)}; use 400-599`));
      }
      throw new UpgradeRejection(status, result.body ?? 'Upgrade refused', result.headers ?? {}, result.body ?? 'Upgrade refused');
    }
  }
  throw internalError(new Error('authorize() returned neither true/false nor { accept }'));
}
