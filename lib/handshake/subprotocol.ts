import type { UpgradeRequest } from './request.js';

/**
 * How the server picks a subprotocol. A list: the first of the client's
 * offers (client preference order) that appears in the list. A function:
 * receives the offers and returns one of them, or undefined for none.
 */
export type ProtocolPolicy = string[] | ((offered: string[], req: UpgradeRequest) => string | undefined);

/**
 * The subprotocol to echo, or undefined (then no Sec-WebSocket-Protocol header
 * is sent). Throws when a selection function returns something the client did
 * not offer: answering with it would make every conforming client fail.
 */
export function selectProtocol(policy: ProtocolPolicy | undefined, offered: string[], req: UpgradeRequest): string | undefined {
  if (policy === undefined || offered.length === 0) return undefined;
  if (typeof policy !== 'function') return offered.find((p) => policy.includes(p));
  const chosen = policy(offered, req);
  if (chosen === undefined || chosen === null) return undefined;
  if (!offered.includes(chosen)) {
    throw new Error(`protocols() returned ${JSON.stringify(chosen)}, which the client did not offer`);
  }
  return chosen;
}
