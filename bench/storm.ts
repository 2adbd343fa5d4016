/**
 * `npm run bench -- --only storm`: a reconnect storm. 2,000 ReconnectingWebSockets (500 with
 * --quick) in one process, our server in another; the server process is killed (SIGKILL: no
 * close frames, every client sees 1006) and started again on the same port after a pause.
 * Measured per 100 ms window after the restart: the TCP connections the new server accepted (what
 * an operator's server sees; the goal: no window holds more than 5% of the clients), the
 * clients' own dial attempts (when each attempt actually started, timer lateness included: the
 * `headers` function runs once per attempt), and the upgrades completed; plus the time until
 * every client is open again and the server's peak handshake rate (scaled to per second).
 *
 * Children: `storm.js server PORT` and `storm.js clients URL N`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { commandLine, describeEnv, mdTable, serveParent, sleep, startChild, importLib } from './util.js';
import { envLines, upsertSection } from './results.js';

const WINDOW = 100;
const GOAL_SHARE = 0.05;

export interface StormOptions {
  quick: boolean;
  out: string;
  argv: string[];
  log: (s: string) => void;
  fdLimit: number;
  serverCpu: number;
  clientCpu: number;
}

/** Counts per WINDOW ms from `start` of the timestamps at or after it. */
function histogram(times: number[], start: number): number[] {
  const out: number[] = [];
  for (const t of times) {
    if (t < start) continue;
    const i = Math.floor((t - start) / WINDOW);
    while (out.length <= i) out.push(0);
    out[i]!++;
  }
  return out;
}

export async function stormSection(o: StormOptions): Promise<void> {
  const n = o.quick ? 500 : 2000;
  const down = o.quick ? 1000 : 2000;
  o.log(`storm: ${n} reconnecting clients, server killed and restarted after ${down} ms`);
  const startServer = (port: number) => startChild('storm.js', { cpu: o.serverCpu, fdLimit: o.fdLimit, args: ['server', String(port)] });
  let server = startServer(0);
  const { port } = await server.ready;
  const clients = startChild('storm.js', { cpu: o.clientCpu, fdLimit: o.fdLimit, args: ['clients', `ws://127.0.0.1:${port}/`, String(n)] });
  await clients.ready;
  await clients.request('waitOpen', { count: n }, 120_000);
  o.log(`storm: ${n} clients open; killing the server`);
  const killedAt = Date.now();
  const exited = new Promise((r) => server.cp.once('exit', r));
  server.cp.kill('SIGKILL');
  await exited;
  await clients.request('waitOpen', { count: 0 }, 60_000);
  await sleep(Math.max(0, down - (Date.now() - killedAt)));
  server = startServer(port);
  const { listeningAt } = await server.ready;
  o.log('storm: server restarted; waiting for every client');
  const back: { dials: number[]; lastOpen: number } = await clients.request('waitOpen', { count: n }, 180_000);
  const { tcp, upgrades }: { tcp: number[]; upgrades: number[] } = await server.request('accepts');
  await clients.stop();
  await server.stop();

  const accepted = histogram(tcp, listeningAt);
  const dials = histogram(back.dials, listeningAt);
  const handshakes = histogram(upgrades, listeningAt);
  const peakAccepts = Math.max(0, ...accepted);
  const peakShare = peakAccepts / n;
  const peakDials = Math.max(0, ...dials);
  const peakRate = Math.max(0, ...handshakes) * (1000 / WINDOW);
  const allBack = back.lastOpen - listeningAt;
  const totalAccepts = accepted.reduce((a, b) => a + b, 0);
  o.log(`storm: all back after ${allBack} ms; busiest 100 ms window ${peakAccepts} accepted connections (${(peakShare * 100).toFixed(1)}% of clients), ` +
    `${peakDials} client dials (${((peakDials / n) * 100).toFixed(1)}%); peak ${peakRate} handshakes/s`);
  const windows = Math.max(accepted.length, dials.length, handshakes.length);
  const rows = Array.from({ length: windows }, (_, i) => {
    const a = accepted[i] ?? 0;
    return [`${i * WINDOW}-${(i + 1) * WINDOW}`, String(a), `${((a / n) * 100).toFixed(1)}%`, String(dials[i] ?? 0), String(handshakes[i] ?? 0)];
  });
  const env = describeEnv(commandLine(pathToFileURL(process.argv[1]!).href, o.argv));
  upsertSection(o.out, 'storm', ['## Reconnect storm', '', envLines(env), '',
    `${n} \`ReconnectingWebSocket\`s with the default backoff (windows 1 s, then 3 s doubling to 30 s, full jitter in slots from the ` +
    `loss; see "Storm analysis") in one process, our server in ` +
    `another; the server was killed with SIGKILL ${((Date.now() - killedAt) / 1000).toFixed(0)} s before this line was written and ` +
    `restarted on the same port ${down} ms after the kill. Windows are counted from the moment the new server listened.`, '',
    mdTable(['measure', 'value'], [
      ['clients', String(n)],
      ['TCP connections the server accepted after the restart', String(totalAccepts)],
      ['busiest 100 ms window (accepted connections, share of clients)', `${peakAccepts} (${(peakShare * 100).toFixed(1)}%)`],
      ['busiest 100 ms window of the clients\' dial attempts', `${peakDials} (${((peakDials / n) * 100).toFixed(1)}%)`],
      [`goal: no window above ${GOAL_SHARE * 100}% of the clients`, peakShare <= GOAL_SHARE ? 'met' : '**missed**'],
      ['time until every client was open again', `${allBack} ms`],
      ['peak handshake rate of the server (per 100 ms window, x10)', `${peakRate}/s`],
    ]), '',
    'Accepted TCP connections (server side), dial attempts (client side) and completed handshakes per 100 ms window after the restart:', '',
    mdTable(['window (ms)', 'accepted', 'share', 'dials', 'handshakes'], rows), ''].join('\n'));
  o.log(`wrote section storm of ${o.out}`);
}

// ---------------------------------------------------------------- children

async function serverChild(port: number): Promise<void> {
  const lib = await importLib('index.js');
  const tcp: number[] = [];
  const upgrades: number[] = [];
  // Attached to a plain HTTP server, so that every accepted TCP connection is seen (the standalone listener is private).
  const http = createServer((_req, res) => res.writeHead(426).end());
  http.on('connection', () => tcp.push(Date.now()));
  const server = new lib.WebSocketServer({ server: http, keepAliveInterval: 0 });
  server.on('connection', () => upgrades.push(Date.now()));
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  serveParent({ accepts: () => ({ tcp, upgrades }) }, { port: (http.address() as AddressInfo).port, listeningAt: Date.now() });
}

async function clientsChild(url: string, n: number): Promise<void> {
  const lib = await importLib('index.js');
  const dials: number[] = [];
  let open = 0;
  let lastOpen = 0;
  const waiters = new Set<() => void>();
  const changed = (): void => { for (const w of waiters) w(); };
  for (let i = 0; i < n; i++) {
    // The headers function runs once per attempt, when the attempt starts: the client-side dial times.
    const rws = new lib.ReconnectingWebSocket(url, { keepAliveInterval: 0, headers: () => { dials.push(Date.now()); return {}; } });
    rws.on('open', () => { open++; lastOpen = Date.now(); changed(); });
    rws.on('close', () => { open--; changed(); });
  }
  serveParent({
    /** Resolves once `count` clients are open, with the start time of every attempt so far and the latest open. */
    async waitOpen({ count }: { count: number }) {
      while (open !== count) await new Promise<void>((r) => { waiters.add(r); setTimeout(r, 200); }).then(() => waiters.clear());
      return { dials, lastOpen };
    },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [role, a, b] = process.argv.slice(2);
  if (role === 'server') await serverChild(Number(a));
  else if (role === 'clients') await clientsChild(a!, Number(b));
}
