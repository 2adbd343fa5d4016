/**
 * rfcws/web: the browser-compatible interfaces of the WHATWG WebSockets standard, over
 * this library's client.
 *
 * ```ts
 * import { WebSocket, WebSocketStream } from 'rfcws/web';
 * ```
 * @packageDocumentation
 */
export { WebSocket } from './websocket.js';
export type { BinaryType } from './websocket.js';
export type { NodeWebSocketOptions } from './dial.js';
export { CloseEvent, ErrorEvent, MessageEvent } from './events.js';
export type { CloseEventInit, ErrorEventInit } from './events.js';
export { WebSocketStream } from './websocket-stream.js';
export type { WebSocketStreamOptions, WebSocketOpenInfo } from './websocket-stream.js';
export { WebSocketError } from './websocket-error.js';
export type { WebSocketCloseInfo } from './websocket-error.js';
