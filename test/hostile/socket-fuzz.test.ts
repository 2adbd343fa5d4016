// Seeded fuzz of the server over real sockets: after a valid upgrade, peers
// send valid, mutated and random frame streams in random chunks with small
// delays, then linger, hang up (FIN), destroy or reset, sometimes mid-frame,
// sometimes without ever reading. Whatever they do, the process must not
// throw, every connection must end with exactly one 'close' event carrying a
// reportable code, the server's `clients` set must empty, and no socket or
// timer may be left behind.
// Replay: FUZZ_SEED=<seed> [FUZZ_CONNECTIONS=n] tap .../hostile/socket-fuzz.test.js
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import t from 'tap';
import type { WebSocket } from '../../lib/websocket.js';
import { frame } from '../helpers/frames.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { selfSignedCert } from '../helpers/tls.js';
import {
  catchEscapes, isReportableCloseCode, listen, resources, settle, sleep, track, waitFor, type CloseRecord,
} from './helpers.js';
import { connect } from '../../lib/client/client.js';
import { acceptKey } from '../../lib/handshake/key.js';
import { prng } from '../helpers/prng.js';
import { onRequestHead } from '../helpers/http.js';

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : randomInt(2 ** 31);
const CONNECTIONS = Number(process.env.FUZZ_CONNECTIONS ?? 300);
const CONCURRENCY = 24;
const MAX_PAYLOAD = 256 * 1024;


type Rand = () => number;
const int = (rand: Rand, n: number): number => Math.floor(rand() * n);

function bytes(rand: Rand, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(rand, 256);
  return b;
}

function text(rand: Rand, n: number): Buffer {
  const chars = ['a', ' ', 'é', '€', '𝄞', 'ж', 'Z'];
  const parts: string[] = [];
  let size = 0;
  while (size < n) {
    const c = chars[int(rand, chars.length)];
    parts.push(c);
    size += Buffer.byteLength(c);
  }
  return Buffer.from(parts.join(''));
}

/** A sync-flushed raw DEFLATE stream without its 00 00 ff ff tail (RFC 7692 7.2.1). */
function deflated(data: Buffer): Buffer {
  const out = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/** A client frame stream: mostly valid traffic, with random-length headers and garbage mixed in. */
function makeStream(rand: Rand, deflate: boolean, masked = true): Buffer {
  const key = masked ? bytes(rand, 4) : false;
  const out: Buffer[] = [];
  const f = (spec: Parameters<typeof frame>[0]): void => {
    out.push(frame({ mask: key, ...spec }));
  };
  const items = 1 + int(rand, 8);
  for (let i = 0; i < items; i++) {
    const kind = int(rand, 10);
    if (kind <= 3) {
      const isText = rand() < 0.5;
      const size = rand() < 0.05 ? int(rand, 300_000) : int(rand, 300);
      const data = isText ? text(rand, size) : bytes(rand, size);
      const compressed = deflate && rand() < 0.5;
      const payload = compressed ? deflated(data) : data;
      const pieces = rand() < 0.3 ? 2 + int(rand, 5) : 1;
      let pos = 0;
      for (let p = 0; p < pieces; p++) {
        const end = p === pieces - 1 ? payload.length : Math.min(payload.length, pos + int(rand, payload.length + 1));
        f({ opcode: p === 0 ? (isText ? 1 : 2) : 0, fin: p === pieces - 1, rsv1: compressed && p === 0, payload: payload.subarray(pos, end) });
        pos = end;
        if (rand() < 0.2) f({ opcode: 0x9, payload: bytes(rand, int(rand, 126)) });
      }
    } else if (kind === 4) {
      f({ opcode: rand() < 0.5 ? 0x9 : 0xa, payload: bytes(rand, int(rand, 126)) });
    } else if (kind === 5) {
      // A header announcing a random length in a random form, with part of the payload or none.
      const len = [int(rand, 126), 126 + int(rand, 70_000), 2 ** 16 + int(rand, 2 ** 20), 2 ** 40, 2 ** 53 + int(rand, 1000), 2 ** 63 + int(rand, 1000)][int(rand, 6)];
      const have = Math.min(int(rand, 2000), Number(len));
      f({ opcode: [0, 1, 2, 8, 9, 10, int(rand, 16)][int(rand, 7)], fin: rand() < 0.7, declaredLength: BigInt(Math.floor(len)), lenBits: rand() < 0.3 ? 64 : undefined, payload: bytes(rand, have) });
    } else if (kind === 6) {
      out.push(bytes(rand, 1 + int(rand, 64)));
    } else if (kind === 7) {
      // Many empty fragments.
      f({ opcode: 1, fin: false });
      const n = int(rand, 3000);
      for (let k = 0; k < n; k++) f({ opcode: 0, fin: false });
      f({ opcode: 0, fin: true, payload: 'end' });
    } else if (kind === 8) {
      const code = [1000, 1001, 1005, 1006, 999, 2000, 3000, 4999, 5000][int(rand, 9)];
      const payload = rand() < 0.1 ? Buffer.from([0x03]) : Buffer.concat([Buffer.from([code >> 8, code & 0xff]), rand() < 0.2 ? Buffer.from([0xff]) : text(rand, int(rand, 30))]);
      f({ opcode: 0x8, payload });
    } else {
      f({ opcode: rand() < 0.5 ? 1 : 2, rsv1: rand() < 0.5, payload: bytes(rand, int(rand, 200)) });
    }
  }
  let b = Buffer.concat(out);
  if (rand() < 0.6) {
    const edits = 1 + int(rand, 4);
    for (let e = 0; e < edits && b.length > 0; e++) {
      const op = int(rand, 4);
      if (op === 0) {
        const at = rand() < 0.5 ? int(rand, Math.min(b.length, 16)) : int(rand, b.length);
        b[at] ^= 1 << int(rand, 8);
      } else if (op === 1) {
        b = b.subarray(0, int(rand, b.length + 1));
      } else if (op === 2) {
        const at = int(rand, b.length + 1);
        b = Buffer.concat([b.subarray(0, at), bytes(rand, 1 + int(rand, 16)), b.subarray(at)]);
      } else {
        const at = int(rand, b.length);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
      }
    }
  }
  return b;
}

type Ending = 'linger' | 'end' | 'destroy' | 'reset' | 'cut-destroy' | 'cut-reset';
const ENDINGS: Ending[] = ['linger', 'linger', 'end', 'destroy', 'reset', 'cut-destroy', 'cut-reset'];

/** Write `stream[from..to)` in random chunks with small random pauses. */
async function dribble(s: net.Socket, stream: Buffer, from: number, to: number, rand: Rand): Promise<void> {
  const whole = rand() < 0.2;
  let pos = from;
  while (pos < to && !s.destroyed) {
    const n = whole ? to : 1 + int(rand, rand() < 0.5 ? 8 : 20_000);
    const chunk = stream.subarray(pos, Math.min(to, pos + n));
    pos += chunk.length;
    s.write(chunk);
    const pause = int(rand, 10);
    if (pause < 2) await sleep(int(rand, 3));
    else if (pause < 5) await new Promise((r) => setImmediate(r));
  }
}

/** End the way `ending` says; then wait for the close (a peer that never reads may need a push). */
async function hangUp(s: net.Socket, ending: Ending, isClosed: () => boolean): Promise<void> {
  // A TLS socket cannot send a TCP reset (its handle is not a TCP handle): it just vanishes.
  if (s instanceof tls.TLSSocket && ending.endsWith('reset')) ending = 'destroy';
  if (ending === 'linger') {
    // Give the other side time to answer and close first; then hang up anyway.
    const deadline = Date.now() + 150;
    while (!isClosed() && Date.now() < deadline) await sleep(10);
    s.end();
  } else if (ending === 'end') {
    s.end();
  } else if (ending === 'destroy' || ending === 'cut-destroy') {
    s.destroy();
  } else {
    s.resetAndDestroy();
  }
  const deadline = Date.now() + 600;
  while (!isClosed() && Date.now() < deadline) await sleep(10);
  s.destroy();
}

/** One hostile client: upgrade, send the stream in random chunks, then end as chosen. */
async function peer(port: number, rand: Rand, tlsCa?: Buffer): Promise<void> {
  const deflate = rand() < 0.5;
  const read = rand() < 0.85;
  const stream = makeStream(rand, deflate);
  const ending = ENDINGS[int(rand, ENDINGS.length)];
  const cutAt = ending.startsWith('cut') ? int(rand, stream.length + 1) : stream.length;
  // Sometimes the first bytes go out with the request itself, before the 101.
  const early = rand() < 0.15 ? int(rand, cutAt + 1) : 0;
  const client = await RawPeer.upgrade(port, { deflate, read, early: early > 0 ? stream.subarray(0, early) : undefined, tlsCa });
  await dribble(client.socket, stream, early, cutAt, rand);
  await hangUp(client.socket, ending, () => client.closed);
}

t.test(`socket fuzz (seed ${SEED}, ${CONNECTIONS} connections; replay with FUZZ_SEED=${SEED})`, async (t) => {
  const escaped = catchEscapes(t);
  const { wss, port } = await listen(t, {
    maxPayload: MAX_PAYLOAD,
    closeTimeout: 250,
    // Timers running on every connection: they must all be gone at the end.
    keepAliveInterval: 40,
    keepAliveTimeout: 80,
    idleTimeout: 120,
    perMessageDeflate: { threshold: 0 },
  });
  const before = resources();
  const serverRand = prng(SEED ^ 0x5eed);
  const records: Array<{ ws: WebSocket; closes: CloseRecord[] }> = [];
  wss.on('connection', (ws: WebSocket) => {
    const { closes } = track(ws);
    records.push({ ws, closes });
    if (serverRand() < 0.5) ws.on('error', () => {});
    const behaviour = int(serverRand, 6);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // Echo: exercises the send path (and compression) while the peer misbehaves.
      ws.send(data, { binary: isBinary });
      if (behaviour === 0) ws.close(1000, 'enough');
      if (behaviour === 1) ws.terminate();
    });
    ws.on('ping', () => {
      if (behaviour === 2 && ws.readyState === ws.OPEN) ws.ping('x');
    });
  });
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < CONNECTIONS) {
      const i = next++;
      const r = prng((SEED + i * 0x9e3779b1) >>> 0);
      try {
        await peer(port, r);
      } catch (err) {
        failures.push(`connection ${i}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));

  t.same(failures, [], `every peer completed its upgrade (seed ${SEED})`);
  t.equal(records.length, CONNECTIONS, `one 'connection' per peer (seed ${SEED})`);
  const allClosed = await waitFor(() => records.every((r) => r.closes.length > 0), 10_000);
  t.ok(allClosed, `every connection emitted 'close' (seed ${SEED}); open: ${records.filter((r) => r.closes.length === 0).length}`);
  await sleep(50);
  verify(t, 'server', records);
  const codes = new Set(records.flatMap((r) => r.closes.map((c) => c.code)));
  if (CONNECTIONS >= 100) t.ok(codes.size >= 4, `the streams reach several outcomes (seed ${SEED})`);
  t.ok(await waitFor(() => wss.clients.size === 0, 5000), `clients set empties (seed ${SEED}); left ${wss.clients.size}`);
  t.equal(wss.pendingHandshakes, 0, 'no handshake pending');
  t.same(await settle(before), [], `no socket or timer left behind (seed ${SEED})`);
  t.same(escaped.map((e) => e.stack), [], `nothing escaped to the process (seed ${SEED})`);
});

/** Record and check the closes of many connections (shared by the tests below). */
function verify(t: Test, label: string, records: Array<{ closes: CloseRecord[] }>): void {
  const doubles = records.filter((r) => r.closes.length > 1);
  t.equal(doubles.length, 0, `${label}: exactly one 'close' per connection (seed ${SEED})${doubles.length ? ': ' + JSON.stringify(doubles[0].closes) : ''}`);
  const bad = records.flatMap((r) => r.closes).filter((c) => !isReportableCloseCode(c.code) || (c.wasClean && c.code === 1006));
  t.same(bad, [], `${label}: every close code is valid (seed ${SEED})`);
  const codes: Record<number, number> = {};
  for (const r of records) for (const c of r.closes) codes[c.code] = (codes[c.code] ?? 0) + 1;
  t.comment(`${label}: close codes seen: ${JSON.stringify(codes)}`);
}

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

t.test(`client fuzz: our client against hostile servers (seed ${SEED}, ${Math.ceil(CONNECTIONS / 2)} connections; replay with FUZZ_SEED=${SEED})`, async (t) => {
  const escaped = catchEscapes(t);
  const n = Math.ceil(CONNECTIONS / 2);
  const scripts: Array<(socket: net.Socket, deflate: boolean) => void> = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    onRequestHead(socket, (head, key) => {
      socket.resume();
      const index = Number(/\r\nX-Fuzz: (\d+)\r\n/i.exec(head)?.[1]);
      const deflate = /permessage-deflate/i.test(head);
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n${deflate ? 'Sec-WebSocket-Extensions: permessage-deflate\r\n' : ''}\r\n`,
      );
      scripts[index](socket, deflate);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const before = resources();
  const records: Array<{ closes: CloseRecord[] }> = [];
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const rand = prng((SEED + 0x51ed + i * 0x9e3779b1) >>> 0);
      const deflate = rand() < 0.5;
      const stream = makeStream(rand, deflate, false);
      const ending = ENDINGS[int(rand, ENDINGS.length)];
      const cutAt = ending.startsWith('cut') ? int(rand, stream.length + 1) : stream.length;
      const keepAlive = rand() < 0.3 ? { keepAliveInterval: 20, keepAliveTimeout: 40 } : { keepAliveInterval: 0 };
      const behaviour = int(rand, 4);
      let serverSide: Promise<void> = Promise.resolve();
      let serverClosed = false;
      scripts[i] = (socket) => {
        socket.on('close', () => (serverClosed = true));
        serverSide = (async () => {
          await dribble(socket, stream, 0, cutAt, rand);
          await hangUp(socket, ending, () => serverClosed);
        })();
      };
      try {
        const ws = await connect(`ws://127.0.0.1:${port}/`, {
          headers: { 'X-Fuzz': String(i) }, perMessageDeflate: deflate, maxPayload: MAX_PAYLOAD, closeTimeout: 250, ...keepAlive,
        });
        const rec = track(ws);
        records.push(rec);
        if (behaviour === 0) ws.on('error', () => {});
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          ws.send(data, { binary: isBinary });
          if (behaviour === 1) ws.close(4000, 'enough');
          if (behaviour === 2) ws.terminate();
        });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([rec.closed, new Promise((r) => (timer = setTimeout(r, 3000)))]);
        clearTimeout(timer);
        await serverSide;
      } catch (err) {
        failures.push(`connection ${i}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  t.same(failures, [], `every handshake succeeded (seed ${SEED})`);
  t.ok(await waitFor(() => records.every((r) => r.closes.length > 0), 10_000), `every connection emitted 'close' (seed ${SEED})`);
  await sleep(50);
  verify(t, 'client', records);
  t.same(await settle(before), [], `no socket or timer left behind (seed ${SEED})`);
  t.same(escaped.map((e) => e.stack), [], `nothing escaped to the process (seed ${SEED})`);
});

t.test(`server.close() while hostile peers are connected, some never reading (seed ${SEED})`, async (t) => {
  const escaped = catchEscapes(t);
  const { wss, port } = await listen(t, { closeTimeout: 200, perMessageDeflate: { threshold: 0 } });
  const before = resources();
  const records: Array<{ closes: CloseRecord[] }> = [];
  const big = Buffer.alloc(256 * 1024, 0x41);
  wss.on('connection', (ws: WebSocket) => {
    records.push(track(ws));
    // Fill the pipe toward peers that do not read, so our 1001 cannot get through.
    for (let k = 0; k < 8; k++) ws.send(big);
  });
  const peers: RawPeer[] = [];
  for (let i = 0; i < 40; i++) {
    const rand = prng((SEED + 0xc105e + i) >>> 0);
    const p = await RawPeer.upgrade(port, { deflate: rand() < 0.5, read: rand() < 0.5 });
    peers.push(p);
    if (rand() < 0.5) p.socket.write(makeStream(rand, false).subarray(0, int(rand, 200)));
  }
  await waitFor(() => records.length === 40);
  await wss.close(300);
  t.equal(wss.clients.size, 0, 'close() resolved with no client left');
  for (const p of peers) p.socket.destroy();
  t.ok(await waitFor(() => records.every((r) => r.closes.length > 0)), "every connection emitted 'close'");
  await sleep(30);
  verify(t, 'shutdown', records);
  t.ok(records.every((r) => r.closes[0].code !== 1006 || !r.closes[0].wasClean), 'no clean 1006');
  t.same(await settle(before), [], 'no socket or timer left behind');
  t.same(escaped.map((e) => e.stack), [], 'nothing escaped to the process');
});

t.test(`wss:// server fuzz: the same hostile streams inside TLS (seed ${SEED}, ${Math.ceil(CONNECTIONS / 5)} connections)`, async (t) => {
  const pair = selfSignedCert();
  if (pair === null) return void t.comment('openssl not available: TLS fuzz skipped');
  const escaped = catchEscapes(t);
  const n = Math.ceil(CONNECTIONS / 5);
  const { wss, port } = await listen(t, { tls: pair, maxPayload: MAX_PAYLOAD, closeTimeout: 250, perMessageDeflate: { threshold: 0 } });
  const before = resources();
  const records: Array<{ closes: CloseRecord[] }> = [];
  wss.on('connection', (ws: WebSocket) => {
    records.push(track(ws));
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      try {
        await peer(port, prng((SEED + 0x7154 + i * 0x9e3779b1) >>> 0), pair.cert);
      } catch (err) {
        failures.push(`connection ${i}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  t.same(failures, [], `every peer completed its upgrade (seed ${SEED})`);
  t.equal(records.length, n);
  t.ok(await waitFor(() => records.every((r) => r.closes.length > 0), 10_000), `every connection emitted 'close' (seed ${SEED})`);
  await sleep(50);
  verify(t, 'wss', records);
  t.ok(await waitFor(() => wss.clients.size === 0, 5000), 'clients set empties');
  t.same(await settle(before), [], `no socket or timer left behind (seed ${SEED})`);
  t.same(escaped.map((e) => e.stack), [], `nothing escaped to the process (seed ${SEED})`);
});
