/** Frame opcodes (RFC 6455 5.2). */
export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** First header byte bits. */
export const FIN = 0x80;
export const RSV1 = 0x40;

/** Largest payload a control frame may carry (RFC 6455 5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/** Default `maxPayload`: 64 MiB (the one default, used by lib/options.ts too). */
export const DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024;

/**
 * Default `maxFragments`: 2^20. Autobahn 9.3.1 sends one message in 65,536
 * fragments, so the default must be well above that. Received fragments are
 * coalesced (see message-assembler), so memory stays bounded by maxPayload; this
 * limit only bounds the CPU a peer can burn on one message made of empty or
 * tiny frames.
 */
export const DEFAULT_MAX_FRAGMENTS = 1 << 20;
