/**
 * The receive path as the protocol state machine uses it: a FrameReader
 * (frames out of received chunks, zero copy, per-frame rules) wired straight
 * to a MessageAssembler (frames -> messages, per-message rules and limits).
 */
import { FrameReader, type FrameReaderOptions } from './frame-reader.js';
import { MessageAssembler, type FrameSink, type MessageAssemblerOptions } from './message-assembler.js';

export { HALT_BUSY, HALT_DONE, HALT_PAUSED } from './frame-reader.js';
export type { FrameSink } from './message-assembler.js';

export interface FrameParserOptions extends FrameReaderOptions, MessageAssemblerOptions {}

/**
 * A FrameReader whose handler is a MessageAssembler: push(), run(), stop(), `halt` and
 * `bufferedAmount` are the reader's; the sink hears messages (or, with `perFragment`,
 * message pieces), control frames, compressed frames and errors.
 */
export class FrameParser extends FrameReader {
  constructor(sink: FrameSink, options: FrameParserOptions) {
    super(new MessageAssembler(sink, options), options);
  }
}
