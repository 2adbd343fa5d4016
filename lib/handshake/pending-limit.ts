/**
 * The cap on handshakes in flight (`maxPendingHandshakes`): each holds a
 * socket or stream, a timer and a partial head until its deadline, so a crowd
 * of clients that never finish their request head (slowloris) must hit a
 * ceiling, and be told so, rather than grow memory without bound.
 */
import { UpgradeRejection } from '../errors.js';

/** Default `maxPendingHandshakes`: with the 10 s handshake deadline, room for ~400 new handshakes a second that each take the full deadline. */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 4096;

/** The refusal past the cap: 503 with `Retry-After: 1` (the crowd times out within the handshake deadline). */
export function tooManyHandshakes(limit: number): UpgradeRejection {
  return new UpgradeRejection(503, `Too many handshakes in progress (maxPendingHandshakes ${limit}); try again shortly`, { 'Retry-After': '1' });
}
