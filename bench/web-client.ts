/**
 * Child process: a client pipelining text messages through one echo server and checking every
 * echo, with one of three client classes: `web` (this project's WHATWG WebSocket, rfcws/web),
 * `undici` (undici's WebSocket, what Node ships as its global) or `ours` (this project's own
 * WebSocket from connect()). Reports messages/s and its own CPU.
 */
import { makePayload } from './frames.js';
import { importLib, measureWindow, serveParent, sleep } from './util.js';

type Impl = 'web' | 'undici' | 'ours';
interface Args { url: string; impl: Impl; size: number; conns: number; inflight: number; warmupMs: number; durationMs: number }

interface Sock {
  send(): void;
  onMessage(cb: (ok: boolean) => void): void;
  close(): void;
}

/** The WHATWG interface, whoever implements it: text out, a string back. */
async function openBrowserLike(Ctor: new (url: string) => any, url: string, text: string): Promise<Sock> {
  const ws = new Ctor(url);
  await new Promise<void>((res, rej) => { ws.onopen = () => res(); ws.onerror = () => rej(new Error('connection failed')); });
  ws.onerror = null;
  return {
    send: () => ws.send(text),
    onMessage: (cb) => { ws.onmessage = (e: MessageEvent) => cb(e.data === text); },
    close: () => ws.close(),
  };
}

async function openOne(impl: Impl, url: string, payload: Buffer): Promise<Sock> {
  if (impl === 'web') {
    const mod = await importLib('web/index.js');
    if (!mod?.WebSocket) throw new Error('lib/web/index.js is not available');
    return openBrowserLike(mod.WebSocket, url, payload.toString());
  }
  if (impl === 'undici') {
    const { WebSocket } = await import('undici');
    return openBrowserLike(WebSocket as any, url, payload.toString());
  }
  const mod = await importLib('client/client.js');
  const ws = await mod.connect(url, { perMessageDeflate: false });
  ws.on('error', () => {});
  return {
    send: () => ws.send(payload, { binary: false }),
    onMessage: (cb) => ws.on('message', (data: Buffer) => cb(data.equals(payload))),
    close: () => ws.close(),
  };
}

async function run(a: Args) {
  const payload = makePayload(a.size, true);
  const socks: Sock[] = [];
  for (let i = 0; i < a.conns; i++) socks.push(await openOne(a.impl, a.url, payload));
  let completed = 0; let counting = false; let running = true; let outstanding = 0; let errors = 0;
  let drained: (() => void) | null = null;
  for (const s of socks) {
    s.onMessage((ok) => {
      outstanding--;
      if (!ok) errors++;
      if (counting) completed++;
      if (running) { outstanding++; s.send(); } else if (outstanding === 0 && drained) drained();
    });
    for (let i = 0; i < a.inflight; i++) { outstanding++; s.send(); }
  }
  const { seconds, cpuPct } = await measureWindow(a.warmupMs, a.durationMs, (on) => { counting = on; });
  running = false;
  if (outstanding > 0) await Promise.race([new Promise<void>((r) => { drained = r; }), sleep(15_000)]);
  for (const s of socks) s.close();
  return { msgs: completed, seconds, msgsPerSec: completed / seconds, cpuPct, errors };
}

if (process.send) serveParent({ run });
