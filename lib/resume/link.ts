/**
 * A {@link ResumeState} driven over one WebSocket (one transport of the
 * session): replays what the peer missed, sends the application's messages,
 * delivers the peer's, acknowledges in batches and checks the peer's acks.
 * Both roles use it; the session outlives the links.
 */
import { after, type Clock } from '../timers.js';
import type { WebSocket } from '../websocket.js';
import { ACK_DELAY, type Outgoing, type ResumeState } from './state.js';
import { ackPayload, parseAck } from './wire.js';

export interface LinkHandlers {
  message(data: Buffer, isBinary: boolean): void;
  /** The buffer passed its bound: the session is over (the link already closed the WebSocket with 1008). */
  overflow(): void;
  /** The peer broke the resume protocol (a forged ack or count): the session is over (closed with 1002). */
  failed(): void;
}

export class ResumeLink {
  private cancelAck: (() => void) | null = null;
  private detached = false;
  private readonly onMessage = (data: Buffer, isBinary: boolean): void => this.received(data, isBinary);
  private readonly onPong = (payload: Buffer): void => this.pong(payload);
  private readonly onClose = (): void => this.detach();

  constructor(
    readonly state: ResumeState,
    readonly ws: WebSocket,
    private readonly handlers: LinkHandlers,
    private readonly clock: Clock,
  ) {}

  /**
   * Start on a transport whose peer reported `peerReceived` in the handshake:
   * send what it lacks. False (and the WebSocket closed with 1002) when the
   * count is outside what this side sent and still holds.
   */
  start(peerReceived: number): boolean {
    const replay = this.state.replayFrom(peerReceived);
    if (replay === null) {
      this.detached = true;
      closeIfOpen(this.ws, 1002, 'resume: received count out of range');
      this.handlers.failed();
      return false;
    }
    this.ws.on('message', this.onMessage);
    this.ws.on('pong', this.onPong);
    this.ws.once('close', this.onClose);
    for (const m of replay) this.ws.send(m.data, { binary: m.isBinary });
    return true;
  }

  /** Number, keep and (when the transport is open) send a message; false when the buffer overflowed. */
  send(m: Outgoing): boolean {
    if (!this.state.record(m)) {
      this.overflow();
      return false;
    }
    if (!this.detached) this.ws.send(m.data, { binary: m.isBinary });
    return true;
  }

  /** Stop using this transport (it closed, or another one took the session over). Sends nothing. */
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.cancelAck?.();
    this.cancelAck = null;
    this.ws.off('message', this.onMessage);
    this.ws.off('pong', this.onPong);
    this.ws.off('close', this.onClose);
  }

  private received(data: Buffer, isBinary: boolean): void {
    if (this.state.receivedOne(data.length)) this.sendAck();
    else if (this.cancelAck === null) this.cancelAck = after(this.clock, ACK_DELAY, () => this.sendAck());
    this.handlers.message(data, isBinary);
  }

  private sendAck(): void {
    this.cancelAck?.();
    this.cancelAck = null;
    if (this.detached || !this.state.unreported) return;
    this.ws.pong(ackPayload(this.state.report()));
  }

  private pong(payload: Buffer): void {
    const n = parseAck(payload);
    if (n === null) return;
    if (!this.state.ack(n)) {
      this.detach();
      closeIfOpen(this.ws, 1002, 'resume: invalid acknowledgement');
      this.handlers.failed();
    }
  }

  private overflow(): void {
    this.detach();
    closeIfOpen(this.ws, 1008, 'resume buffer full');
    this.handlers.overflow();
  }
}

/** Close unless a close is already under way (close() refuses nothing here: the codes are valid). */
export function closeIfOpen(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === 1) ws.close(code, reason);
}
