/**
 * The Autobahn testee behaviour, shared by the conformance server, the conformance
 * client and the test suite so the suite checks exactly what Autobahn would run.
 * Public API only.
 */
import type { PerMessageDeflateOptions, WebSocket, WebSocketOptions } from '../lib/index.js';

/**
 * Limits large enough for every Autobahn case: section 9 sends single messages of up
 * to 16 MiB and one message in 65,536 fragments.
 */
export const TESTEE_LIMITS = {
  maxPayload: 64 * 1024 * 1024,
  maxFragments: 1024 * 1024,
  maxSendQueue: 512 * 1024 * 1024,
  sendHighWaterMark: 64 * 1024 * 1024,
} satisfies WebSocketOptions;

/** permessage-deflate as the testee offers/accepts it: compress every message. */
export const TESTEE_DEFLATE = { threshold: 0 } satisfies PerMessageDeflateOptions;

/** Echoes every message back with the same type; errors end up in the close code, not the process. */
export function echo(ws: WebSocket): void {
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    ws.send(data, { binary: isBinary });
  });
  ws.on('error', () => {});
}
