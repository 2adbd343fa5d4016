/**
 * What `authorize` decided about a new connection's lifetime, applied to it
 * before the server announces it (see lib/handshake/session-terms.ts).
 */
import { UpgradeRejection } from '../errors.js';
import type { SessionTerms } from '../handshake/session-terms.js';
import { WebSocket } from '../websocket.js';

/**
 * Arm the expiry, or close at once (accept-then-close, or an expiry already
 * past). Returns null when the connection stays open, else the refusal to
 * report on 'rejected' (status 101: the upgrade completed, then the close
 * frame went out); such a connection is not announced on 'connection'.
 */
export function applyTerms(ws: WebSocket, terms: SessionTerms | undefined): UpgradeRejection | null {
  if (terms === undefined) return null;
  if (terms.closeNow) ws.close(terms.code, terms.reason);
  else ws.expireAt(terms.expiresAt, terms.code, terms.reason);
  if (ws.readyState === WebSocket.OPEN) return null;
  const what = terms.closeNow ? 'authorize() closed the connection' : 'the session had already expired';
  return new UpgradeRejection(101, `Accepted, then closed with ${terms.code}${terms.reason === '' ? '' : ` '${terms.reason}'`}: ${what}`);
}
