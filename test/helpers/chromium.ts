// Headless Chromium for browser tests, driven over the DevTools protocol (CDP) with
// this project's own WebSocket client: one connection to the browser endpoint, one
// flat session per tab (Target.attachToTarget with flatten, commands carry sessionId).
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { connect, type WebSocket } from '../../lib/index.js';

/** Why a browser test is skipped on a machine without Chromium. */
export const NO_CHROMIUM = 'chromium is not installed: install the Debian package `chromium` (apt-get install -y chromium; .ci/run does)';

/** The `chromium` executable on PATH (Debian's package installs /usr/bin/chromium), or undefined. */
export function findChromium(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, 'chromium');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

interface Pending {
  resolve: (result: Record<string, unknown>) => void;
  reject: (err: Error) => void;
  method: string;
}

/** A tab, attached through a flat CDP session. */
export class Page {
  constructor(
    private readonly browser: Browser,
    readonly targetId: string,
    readonly sessionId: string,
  ) {}

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId);
  }

  /** The value of a JavaScript expression in the page (awaited when it is a promise). */
  async evaluate(expression: string): Promise<unknown> {
    const res = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (res['exceptionDetails'] !== undefined) throw new Error(`page threw on ${expression}: ${JSON.stringify(res['exceptionDetails'])}`);
    return (res['result'] as { value?: unknown }).value;
  }

  /** Polls `expression` until it is truthy; returns its value. Throws after `timeoutMs` (a generous deadline, not a measurement). */
  async waitFor(expression: string, timeoutMs = 20_000): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      last = await this.evaluate(expression);
      if (last) return last;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression} (last value ${JSON.stringify(last)})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Types `text` into the focused element as keyboard input would insert it. */
  async type(text: string): Promise<void> {
    await this.send('Input.insertText', { text });
  }

  /** Presses and releases Enter (submits a form from its text input). */
  async pressEnter(): Promise<void> {
    const key = { key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 13, nativeVirtualKeyCode: 13 };
    await this.send('Input.dispatchKeyEvent', { type: 'keyDown', text: '\r', ...key });
    await this.send('Input.dispatchKeyEvent', { type: 'keyUp', ...key });
  }
}

/** A running headless Chromium with a fresh profile in a temporary folder. */
export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed: Promise<void> | null = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly ws: WebSocket,
    private readonly profile: string,
    readonly stderr: () => string,
  ) {
    ws.on('message', (data: Buffer) => this.onMessage(data));
    ws.on('close', () => this.failAll(new Error('the DevTools connection closed')));
  }

  /** Starts Chromium with `--remote-debugging-port=0` and connects to the browser endpoint it prints; `extraArgs` go before the first URL. */
  static async launch(executable: string, extraArgs: readonly string[] = []): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'rfcws-chromium-'));
    const args = [
      '--headless',
      '--remote-debugging-port=0',
      '--remote-debugging-address=127.0.0.1',
      `--user-data-dir=${profile}`,
      // Containers run tests as root, where Chromium's sandbox cannot start.
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--no-default-browser-check',
      '--no-proxy-server',
      '--disable-extensions',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Both tabs are "background" in headless mode: keep their timers and sockets at full speed.
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
      ...extraArgs,
      'about:blank',
    ];
    // Its own process group, so that teardown can end the renderers with it.
    const child = spawn(executable, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    let ws: WebSocket;
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`chromium printed no DevTools URL within 30 s:\n${stderr}`)), 30_000);
        child.stderr!.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
          if (m !== null) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`chromium exited (${code ?? signal}) before printing its DevTools URL:\n${stderr}`));
        });
      });
      // CDP results can be large (screenshots, DOM dumps); no keepalive on a local pipe.
      ws = await connect(url, { keepAliveInterval: 0 });
    } catch (err) {
      killGroup(child);
      rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
      throw err;
    }
    return new Browser(child, ws, profile, () => stderr);
  }

  /** Sends one CDP command; resolves with its result, rejects with its error. */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const message: Record<string, unknown> = { id, method, params };
    if (sessionId !== undefined) message['sessionId'] = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.ws.send(JSON.stringify(message), {}, (err) => {
        if (err) {
          this.pending.delete(id);
          reject(err);
        }
      });
    });
  }

  /** Opens `url` in a new tab and attaches to it. */
  async newPage(url: string): Promise<Page> {
    const { targetId } = (await this.send('Target.createTarget', { url })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    return new Page(this, targetId, sessionId);
  }

  /** Asks the browser to quit, kills its process group if it has not within 5 s, and removes the profile. */
  close(): Promise<void> {
    if (this.closed === null) this.closed = this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    const exited = this.child.exitCode !== null || this.child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send('Browser.close').catch(() => {});
    const timer = setTimeout(() => killGroup(this.child), 5000);
    await exited;
    clearTimeout(timer);
    // Helpers (zygote, renderers) of a browser that quit go with it; make sure of it.
    killGroup(this.child);
    this.ws.terminate();
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }

  private onMessage(data: Buffer): void {
    const msg = JSON.parse(data.toString('utf8')) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
    if (msg.id === undefined) return; // an event; these tests poll instead of subscribing
    const p = this.pending.get(msg.id);
    if (p === undefined) return;
    this.pending.delete(msg.id);
    if (msg.error !== undefined) p.reject(new Error(`${p.method}: ${msg.error.message}`));
    else p.resolve(msg.result ?? {});
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/** SIGKILL to the process group of a browser this helper started (detached, so the group is its own). */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}
