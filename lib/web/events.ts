/**
 * The event classes of the WebSocket interface, and its `on<event>` attributes. Node 20
 * has a global MessageEvent (used as is) but no CloseEvent or ErrorEvent: those are
 * defined here as the HTML and WebSockets standards define them.
 */

/** The global MessageEvent of Node. */
export const MessageEvent: typeof globalThis.MessageEvent = globalThis.MessageEvent;
export type MessageEvent = globalThis.MessageEvent;

/** The options every Event takes. */
export interface EventInit {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}

export interface CloseEventInit extends EventInit {
  wasClean?: boolean;
  code?: number;
  reason?: string;
}

/** The `close` event of a WebSocket (WebSockets standard, the CloseEvent interface). */
export class CloseEvent extends Event {
  readonly #wasClean: boolean;
  readonly #code: number;
  readonly #reason: string;

  constructor(type: string, init: CloseEventInit = {}) {
    super(type, init);
    this.#wasClean = Boolean(init.wasClean ?? false);
    this.#code = Number(init.code ?? 0) & 0xffff;
    this.#reason = String(init.reason ?? '');
  }

  /** Whether the closing handshake completed and then the TCP connection closed. */
  get wasClean(): boolean {
    return this.#wasClean;
  }

  /** The close code the peer sent (1005 when its close frame had none, 1006 when none arrived). */
  get code(): number {
    return this.#code;
  }

  get reason(): string {
    return this.#reason;
  }
}

export interface ErrorEventInit extends EventInit {
  message?: string;
  filename?: string;
  lineno?: number;
  colno?: number;
  error?: unknown;
}

/** The HTML standard's ErrorEvent (exported for code that constructs or checks one; a WebSocket fires a plain Event named `error`). */
export class ErrorEvent extends Event {
  readonly #init: ErrorEventInit;

  constructor(type: string, init: ErrorEventInit = {}) {
    super(type, init);
    this.#init = init;
  }

  get message(): string {
    return String(this.#init.message ?? '');
  }

  get filename(): string {
    return String(this.#init.filename ?? '');
  }

  get lineno(): number {
    return Number(this.#init.lineno ?? 0) >>> 0;
  }

  get colno(): number {
    return Number(this.#init.colno ?? 0) >>> 0;
  }

  get error(): unknown {
    return this.#init.error;
  }
}

for (const cls of [CloseEvent, ErrorEvent]) {
  for (const name of Object.getOwnPropertyNames(cls.prototype)) {
    if (name !== 'constructor') Object.defineProperty(cls.prototype, name, { enumerable: true });
  }
}

type Listener = (this: EventTarget, ev: Event) => unknown;
interface Slot {
  fn: Listener;
  wrapper: (ev: Event) => void;
}
const slots = new WeakMap<EventTarget, Map<string, Slot>>();

/**
 * `on<type>` attributes (HTML event handler IDL attributes): setting a function registers
 * one listener, in the order of the first assignment; assigning again replaces the function
 * in the same place; null (or any non-function) removes it.
 */
export function defineEventHandlers(proto: EventTarget, types: readonly string[]): void {
  for (const type of types) {
    Object.defineProperty(proto, `on${type}`, {
      enumerable: true,
      configurable: true,
      get(this: EventTarget): Listener | null {
        return slots.get(this)?.get(type)?.fn ?? null;
      },
      set(this: EventTarget, value: unknown) {
        let map = slots.get(this);
        const slot = map?.get(type);
        if (typeof value !== 'function') {
          if (slot !== undefined) {
            this.removeEventListener(type, slot.wrapper);
            map!.delete(type);
          }
          return;
        }
        if (slot !== undefined) {
          slot.fn = value as Listener;
          return;
        }
        if (map === undefined) slots.set(this, (map = new Map()));
        const target = this;
        const created: Slot = { fn: value as Listener, wrapper: (ev) => void created.fn.call(target, ev) };
        map.set(type, created);
        this.addEventListener(type, created.wrapper);
      },
    });
  }
}
