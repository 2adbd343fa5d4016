// Thousands of slowloris handshakes: connections that send nothing, or a
// partial request head a byte at a time. Every one must be answered with 408
// and closed at the handshake deadline, memory must stay bounded, and a normal
// client must still be served while they hang on.
import * as net from 'node:net';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import type { WebSocket } from '../../lib/websocket.js';
import { fdLimit, listen, memoryWatch, mib, MiB, resources, settle, track, waitFor } from './helpers.js';

// Each connection costs two descriptors here (both ends live in this process).
const WANTED = 2000;
const LIMIT = fdLimit();
const N = Math.max(100, Math.min(WANTED, Math.floor((LIMIT - 400) / 2)));

interface Loris {
  socket: net.Socket;
  received: string;
  closed: Promise<void>;
  trickle: boolean;
}

function open(port: number, kind: number): Promise<Loris> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const loris: Loris = { socket, received: '', closed: Promise.resolve(), trickle: kind === 1 };
    loris.closed = new Promise((r) => socket.once('close', () => r()));
    socket.setEncoding('latin1');
    socket.on('data', (s: string) => (loris.received += s));
    socket.on('error', () => {});
    socket.once('connect', () => {
      // 0: silent; 1: a partial head trickled a byte at a time; 2: a complete head but for its last CRLF.
      if (kind === 1) socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      if (kind === 2) socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n');
      resolve(loris);
    });
    socket.once('error', reject);
  });
}

t.test(`${N} slowloris handshakes: all get 408 at the deadline, memory bounded, a real client is served meanwhile`, async (t) => {
  if (N < WANTED) t.comment(`file descriptor limit ${LIMIT}: using ${N} connections instead of ${WANTED}`);
  const { wss, port } = await listen(t, { handshakeTimeout: 300 });
  wss.on('connection', (ws: WebSocket) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const rejected: number[] = [];
  wss.on('rejected', (status: number) => rejected.push(status));
  const before = resources();
  const mem = memoryWatch();

  const lorises: Loris[] = [];
  const trickle = setInterval(() => {
    for (const l of lorises) if (l.trickle && !l.socket.destroyed && l.socket.writable) l.socket.write('a');
  }, 50);
  const batch = 200;
  let served: Promise<string> | null = null;
  for (let i = 0; i < N; i += batch) {
    const n = Math.min(batch, N - i);
    lorises.push(...(await Promise.all(Array.from({ length: n }, (_, k) => open(port, (i + k) % 3)))));
    if (served === null && lorises.length >= N / 2) {
      // A legitimate client in the middle of the storm.
      served = (async () => {
        const ws = await connect(`ws://127.0.0.1:${port}/`, { keepAliveInterval: 0 });
        const { closed } = track(ws);
        ws.send('still here');
        const reply = await new Promise<string>((r) => ws.once('message', (d: Buffer) => r(d.toString())));
        ws.close(1000);
        const c = await closed;
        return `${reply} ${c.code} ${c.wasClean}`;
      })();
    }
  }
  t.equal(await served, 'still here 1000 true', 'a normal client connects, exchanges a message and closes cleanly');
  await Promise.all(lorises.map((l) => l.closed));
  clearInterval(trickle);
  const grew = mem.stop();

  const answered = lorises.filter((l) => l.received.startsWith('HTTP/1.1 408 Request Timeout\r\n')).length;
  t.equal(answered, N, `every slow connection got 408 and was closed (${answered}/${N})`);
  t.equal(rejected.filter((s) => s === 408).length, N, "one 'rejected' 408 per slow connection");
  t.ok(await waitFor(() => wss.pendingHandshakes === 0, 5000), `no pending handshake left (${wss.pendingHandshakes})`);
  t.equal(wss.clients.size, 0);
  t.ok(grew.rss < 100 * MiB, `rss growth ${mib(grew.rss)} for ${N} connections`);
  t.ok(grew.heap < 64 * MiB, `heap growth ${mib(grew.heap)}`);
  t.same(await settle(before), [], 'no socket or timer left behind');
});
