/**
 * Child process: the client role. This project's client (lib/client/client.ts connect) or ws's client
 * (pure JS with WS_NO_BUFFER_UTIL=1, else with bufferutil) pipelines messages through one echo
 * server and checks every echo; reports messages/s, MB/s and its own CPU.
 */
import { createRequire } from 'node:module';
import { makePayload } from './frames.js';
import { importLib, measureWindow, serveParent, sleep } from './util.js';

const require = createRequire(import.meta.url);

interface Args {
  url: string; impl: 'ours' | 'ws'; size: number; text: boolean; conns: number; inflight: number;
  warmupMs: number; durationMs: number;
}

interface Sock {
  send(b: Buffer): void;
  onMessage(cb: (data: Buffer, isBinary: boolean) => void): void;
  close(): void;
}

async function openOne(impl: 'ours' | 'ws', url: string): Promise<Sock> {
  if (impl === 'ours') {
    const mod = await importLib('client/client.js');
    if (!mod?.connect) throw new Error('lib/client/client.js (connect) is not available yet');
    const ws = await mod.connect(url, { perMessageDeflate: false, maxPayload: 128 << 20 });
    ws.on('error', () => {});
    return {
      send: (b) => ws.send(b, { binary: false }),
      onMessage: (cb) => ws.on('message', cb),
      close: () => ws.terminate(),
    };
  }
  const WebSocket = require('ws') as typeof import('ws').WebSocket;
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 128 << 20 });
  await new Promise<void>((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  ws.on('error', () => {});
  return {
    send: (b) => ws.send(b, { binary: false }),
    onMessage: (cb) => ws.on('message', cb as any),
    close: () => ws.terminate(),
  };
}

async function run(a: Args) {
  // Text everywhere keeps both sides' UTF-8 validation in the path, as in a real chat/API client.
  const payload = makePayload(a.size, true);
  const sendOne = (s: Sock, binary: boolean) => { void binary; s.send(payload); };
  const socks: Sock[] = [];
  for (let i = 0; i < a.conns; i++) socks.push(await openOne(a.impl, a.url));
  let completed = 0; let counting = false; let running = true; let outstanding = 0;
  let errors = 0; let firstError = '';
  let drained: (() => void) | null = null;
  for (const s of socks) {
    s.onMessage((data) => {
      outstanding--;
      if (!data.equals(payload)) { errors++; firstError ||= 'echo mismatch'; }
      if (counting) completed++;
      if (running) { outstanding++; sendOne(s, false); } else if (outstanding === 0 && drained) drained();
    });
    for (let i = 0; i < a.inflight; i++) { outstanding++; sendOne(s, false); }
  }
  const { seconds, cpuPct } = await measureWindow(a.warmupMs, a.durationMs, (on) => { counting = on; });
  running = false;
  if (outstanding > 0) await Promise.race([new Promise<void>((r) => { drained = r; }), sleep(15_000)]);
  for (const s of socks) s.close();
  return {
    msgs: completed, seconds, msgsPerSec: completed / seconds, mbPerSec: (completed * a.size) / seconds / 1e6,
    cpuPct, errors, firstError,
  };
}

if (process.send) serveParent({ run });
