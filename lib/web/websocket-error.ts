/**
 * WebSocketError (the WebSocketStream proposal, whatwg/websockets#48): a DOMException
 * named "WebSocketError" carrying the close code and reason of an unclean close, or the
 * code and reason a stream is aborted or cancelled with.
 */
import { checkClose, enforceUnsignedShort, usvString } from './validate.js';

/** `closeCode` and `reason`, as `WebSocketStream.close()` and `closed` use them. */
export interface WebSocketCloseInfo {
  closeCode?: number;
  reason?: string;
}

/** Lets this module's code build an error with a code the constructor refuses (1006). */
const UNCHECKED = Symbol('unchecked');

export class WebSocketError extends DOMException {
  readonly #closeCode: number | null;
  readonly #reason: string;

  /** `init.closeCode` must be 1000 or 3000-4999 (else InvalidAccessError); a reason alone means 1000. */
  constructor(message = '', init: WebSocketCloseInfo = {}) {
    super(String(message), 'WebSocketError');
    if ((init as { [UNCHECKED]?: true })[UNCHECKED]) {
      this.#closeCode = init.closeCode ?? null;
      this.#reason = init.reason ?? '';
      return;
    }
    const info = closeInfo(init);
    this.#closeCode = info.code ?? null;
    this.#reason = info.reason;
  }

  get closeCode(): number | null {
    return this.#closeCode;
  }

  get reason(): string {
    return this.#reason;
  }
}

Object.defineProperty(WebSocketError.prototype, Symbol.toStringTag, { value: 'WebSocketError', configurable: true });

/** A WebSocketError for an unclean close, whatever its code. */
export function uncleanClose(closeCode: number, reason: string): WebSocketError {
  return new WebSocketError('The WebSocket connection was not closed cleanly', { closeCode, reason, [UNCHECKED]: true } as WebSocketCloseInfo);
}

/** WebIDL conversion of a WebSocketCloseInfo dictionary, then the standard's close checks. */
export function closeInfo(init: WebSocketCloseInfo | null | undefined): { code: number | undefined; reason: string } {
  const code = init?.closeCode === undefined ? undefined : enforceUnsignedShort(init.closeCode, 'closeCode');
  return checkClose(code, init?.reason === undefined ? undefined : usvString(init.reason));
}
