/**
 * `npm run bench -- --only fanout-cross`: fan-out across processes. One publisher and N
 * subscribers (10,000; --quick: 1,000) against our server in one process (no broker), then two
 * server processes with the subscribers spread over both and the publisher on the first, joined by
 * a ClusterBroker (this bench process is the relay, as a cluster primary would be) and by a
 * RedisBroker (a real /usr/bin/redis-server started here on its own port; skipped with a note when
 * it is missing). Deliveries/s at 16 B and 1 KiB, and the latency from the publisher's write to
 * each subscriber's read (p50/p99, single 16 B messages) with what the broker adds to one process.
 * Clients: bench/fanout-peer.ts. Writes the `fanout-cross` section of the results file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { commandLine, describeEnv, fmtMed, fmtNum, fmtRatio, importLib, mdTable, median, startChild, type Child } from './util.js';
import { envLines, upsertSection } from './results.js';
import type { FanoutContext } from './fanout.js';

const REDIS_SERVER = '/usr/bin/redis-server';
const FD_LIMIT = 65536;

type Setup = 'one process' | 'cluster broker' | 'Redis broker';

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  s.close();
  await once(s, 'close');
  return port;
}

/** A throwaway redis-server on 127.0.0.1 that writes nothing to disk. */
async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];
  const c: ChildProcess = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    c.stdout!.on('data', (b: Buffer) => { out += b; if (out.includes('Ready to accept connections')) resolve(); });
    c.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out.slice(-200)}`)));
  });
  return { url: `redis://127.0.0.1:${port}`, stop: async () => { const e = once(c, 'exit'); c.kill('SIGTERM'); await e; } };
}

/** The servers of one setup, and how to take them down. */
async function startServers(setup: Setup, redisUrl: string | null): Promise<{ servers: Child[]; ports: number[]; stop: () => Promise<void> }> {
  if (setup === 'one process') {
    const s = startChild('fanout-peer.js', { cpu: 0, fdLimit: FD_LIMIT, args: ['server', 'ours'] });
    const { port } = await s.ready;
    return { servers: [s], ports: [port], stop: () => s.stop() };
  }
  const spec = setup === 'cluster broker' ? 'cluster' : redisUrl!;
  const servers = [0, 1].map((cpu) => startChild('fanout-peer.js', { cpu, fdLimit: FD_LIMIT, args: ['server', 'ours', spec] }));
  let relay: { close(): void } | null = null;
  if (setup === 'cluster broker') {
    const lib = await importLib('index.js');
    const r = lib.ClusterBroker.relay();
    for (const s of servers) r.add(s.cp);
    relay = r;
  }
  const ports = (await Promise.all(servers.map((s) => s.ready))).map((x) => x.port as number);
  return { servers, ports, stop: async () => { await Promise.all(servers.map((s) => s.stop())); relay?.close(); } };
}

export async function fanoutCrossSection(ctx: FanoutContext): Promise<void> {
  const n = ctx.quick ? 1000 : 10_000;
  const window = 16;
  const warmupMs = ctx.quick ? 300 : 500;
  const durationMs = ctx.quick ? 700 : 2000;
  const probes = ctx.quick ? 30 : 100;
  const sizes = [16, 1024];
  const notes: string[] = [];
  let redis: { url: string; stop: () => Promise<void> } | null = null;
  const setups: Setup[] = ['one process', 'cluster broker'];
  if (!existsSync(REDIS_SERVER)) notes.push(`Redis skipped: ${REDIS_SERVER} is not installed (Debian package redis-server)`);
  else {
    try { redis = await startRedis(); setups.push('Redis broker'); } catch (e) { notes.push(`Redis skipped: ${(e as Error).message}`); }
  }
  ctx.log(`fanout-cross: 1 publisher, ${n} subscribers, ${setups.join(' / ')}`);
  const res = new Map<string, number[]>();
  const push = (k: string, v: number) => res.set(k, [...(res.get(k) ?? []), v]);
  try {
    for (let r = 0; r < ctx.runs; r++) {
      for (let k = 0; k < setups.length; k++) {
        const setup = setups[(k + r) % setups.length]!;
        const { ports, stop } = await startServers(setup, redis?.url ?? null);
        // Unpinned: the client shares the two cores with the two servers (and Redis).
        const client = startChild('fanout-peer.js', { fdLimit: FD_LIMIT, args: ['client'] });
        try {
          await client.ready;
          await client.request('open', { port: ports[0], ports, n }, 300_000);
          for (const size of sizes) {
            const x = await client.request('run', { size, window, warmupMs, durationMs }, 120_000);
            if (x.stalled || x.lost > 0) notes.push(`${setup} ${size} B run ${r + 1}: ${x.stalled ? 'stalled,' : ''} ${x.lost} deliveries missing`);
            push(`${size}|${setup}`, x.deliveriesPerSec);
          }
          const l = await client.request('latency', { size: 16, count: probes }, 120_000);
          push(`p50|${setup}`, l.p50);
          push(`p99|${setup}`, l.p99);
        } catch (e) {
          notes.push(`${setup} run ${r + 1}: ${(e as Error).message.split('\n')[0]}`);
          for (const key of [...sizes, 'p50', 'p99']) push(`${key}|${setup}`, NaN);
        } finally {
          await client.stop();
          await stop();
        }
      }
    }
  } finally {
    await redis?.stop();
  }
  const paired = (key: string, a: string, b: string, f: (x: number, y: number) => number) => {
    const A = res.get(`${key}|${a}`) ?? [];
    const B = res.get(`${key}|${b}`) ?? [];
    return median(A.map((x, i) => f(x, B[i]!)).filter(Number.isFinite));
  };
  const ms = (xs: number[]) => fmtNum(median(xs.filter(Number.isFinite)), 3);
  const rows = setups.map((s) => [
    s,
    ...sizes.map((size) => fmtMed(res.get(`${size}|${s}`) ?? [])),
    ...sizes.map((size) => (s === 'one process' ? '1.00x' : fmtRatio(paired(String(size), s, 'one process', (x, y) => x / y)))),
    ms(res.get(`p50|${s}`) ?? []),
    ms(res.get(`p99|${s}`) ?? []),
    s === 'one process' ? '-' : `${ms([paired('p50', s, 'one process', (x, y) => x - y)])} / ${ms([paired('p99', s, 'one process', (x, y) => x - y)])}`,
  ]);
  for (const row of rows) ctx.log(`  ${row.join(' | ')}`);
  const env = describeEnv(commandLine(ctx.scriptUrl, ctx.argv));
  upsertSection(ctx.out, 'fanout-cross', ['## Fan-out across processes: cluster broker and Redis', '', envLines(env), '',
    `${n} subscribers and one publisher (raw sockets in one client process, bench/fanout-peer.ts), all subscribed to one topic. ` +
    '"one process": one server of ours, no broker. "cluster broker": two server processes, the subscribers alternating between ' +
    'them and the publisher on the first, each with a `ClusterBroker` (the bench process relays, as a cluster primary does). ' +
    '"Redis broker": the same two servers with a `RedisBroker` each on a redis-server started by the bench. ' +
    `Throughput: ${window} messages in flight across the fan-out, ${warmupMs} ms warm-up, ${durationMs} ms measured. Latency: ` +
    `${probes} single 16 B messages, each after the last reached every subscriber; from the publisher's write to each subscriber's ` +
    'read, so it includes the client reading all the sockets in turn. The servers are pinned one per core, the client is not. ' +
    `${ctx.runs} run(s), setups rotated run by run; ratios and differences are medians of per-run values.`, '',
    mdTable(['setup', ...sizes.map((x) => `${x === 1024 ? '1 KiB' : `${x} B`} deliveries/s`), ...sizes.map((x) => `${x === 1024 ? '1 KiB' : `${x} B`} vs one process`),
      'latency p50 ms', 'latency p99 ms', 'added p50 / p99 ms'], rows),
    '', ...(notes.length ? ['Notes:', '', ...notes.map((x) => `- ${x}`), ''] : [])].join('\n'));
  ctx.log(`wrote section fanout-cross of ${ctx.out}`);
}
