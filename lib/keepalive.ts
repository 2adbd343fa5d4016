/**
 * Keepalive with dead-peer detection: a ping every `interval` ms; if nothing at
 * all arrives from the peer within `timeout` ms of a ping, the peer is dead.
 * The owner sets `seen = true` whenever bytes arrive — one store per read, no
 * clock reads and no timer churn on the data path.
 */
export class KeepAlive {
  /** Set by the owner on every received chunk. */
  seen = true;
  private readonly pinger: NodeJS.Timeout;
  private deadline: NodeJS.Timeout | null = null;

  constructor(interval: number, private readonly timeout: number, sendPing: () => void, private readonly onDead: () => void) {
    this.pinger = setInterval(() => {
      sendPing();
      // One deadline at a time, measured from the ping that started it. A new
      // timer each time: a cleared Node timer cannot be re-armed with refresh().
      if (this.deadline === null) {
        this.seen = false;
        this.deadline = setTimeout(() => this.check(), this.timeout);
      }
    }, interval);
  }

  private check(): void {
    this.deadline = null;
    if (!this.seen) this.onDead();
  }

  stop(): void {
    clearInterval(this.pinger);
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.deadline = null;
  }
}
