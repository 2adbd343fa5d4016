/**
 * `npm run bench -- --only fanout`: one publisher, 10,000 subscribers (--quick: 1,000), 16 B and
 * 1 KiB text messages; deliveries/s of our `ws.publish` against uWebSockets.js `ws.publish` and
 * `ws` with a `for` loop over `wss.clients`, and a raw `net` floor (bench/fanout-raw.ts: one
 * write per socket per tick, Node's own write path and nothing else), each server in its own
 * process and the clients (bench/fanout-peer.ts, raw sockets) in another. Server CPU time per
 * delivery (its `process.cpuUsage()` over a size's whole run divided by the deliveries of that
 * run) is reported beside deliveries/s: it depends less on how much of its core the server got.
 * A compressed row (1 KiB JSON-like text, permessage-deflate with server_no_context_takeover) runs
 * ours, uWS.js and ws again with compression on. Writes the `fanout` section of the results file.
 */
import { createRequire } from 'node:module';
import { commandLine, describeEnv, fmtMed, fmtNum, fmtRatio, mdTable, median, startChild } from './util.js';
import { envLines, upsertSection } from './results.js';

const require = createRequire(import.meta.url);
const SERVER_CPU = 0;
const CLIENT_CPU = 1;
const FD_LIMIT = 65536;

export interface FanoutContext {
  quick: boolean;
  runs: number;
  out: string;
  argv: string[];
  scriptUrl: string;
  log: (s: string) => void;
}

function haveUws(): boolean {
  try {
    require(`@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
    return true;
  } catch {
    return false;
  }
}

/** A row's label and key: `16 B text`, `1 KiB text`, `1 KiB json, compressed`. */
function cellKey(size: number, deflate: boolean): string {
  const bytes = size === 1024 ? '1 KiB' : `${size} B`;
  return deflate ? `${bytes} json, compressed` : `${bytes} text`;
}

export async function fanoutSection(ctx: FanoutContext): Promise<void> {
  const n = ctx.quick ? 1000 : 10_000;
  // Enough in flight that round trips do not bound the rate; at most 16 KiB queued per subscriber.
  const window = 16;
  const warmupMs = ctx.quick ? 300 : 500;
  const durationMs = ctx.quick ? 700 : 2000;
  const sizes = [16, 1024];
  const kinds: Array<[string, string]> = [['ours', 'ours'], ...(haveUws() ? [['uWS.js', 'uws'] as [string, string]] : []), ['ws (for loop)', 'ws'], ['raw net', 'raw']];
  ctx.log(`fanout: 1 publisher, ${n} subscribers, ${kinds.map((k) => k[0]).join(' / ')}`);
  const res = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const notes: string[] = [];
  const push = (m: Map<string, number[]>, k: string, v: number) => m.set(k, [...(m.get(k) ?? []), v]);
  // The plain cells, then the compressed one (its own servers: permessage-deflate on, subscribers
  // offering server_no_context_takeover, JSON-like text; raw net has no compressed mode).
  const passes: Array<{ deflate: boolean; sizes: number[] }> = [{ deflate: false, sizes }, { deflate: true, sizes: [1024] }];
  for (let r = 0; r < ctx.runs; r++) {
    for (const pass of passes) {
      for (let k = 0; k < kinds.length; k++) {
        const [name, kind] = kinds[(k + r) % kinds.length]!;
        if (pass.deflate && kind === 'raw') continue;
        const server = startChild('fanout-peer.js', { cpu: SERVER_CPU, fdLimit: FD_LIMIT, args: ['server', kind, ...(pass.deflate ? ['deflate'] : [])] });
        const client = startChild('fanout-peer.js', { cpu: CLIENT_CPU, fdLimit: FD_LIMIT, args: ['client'] });
        try {
          const { port } = await server.ready;
          await client.ready;
          await client.request('open', { port, n, deflate: pass.deflate }, 300_000);
          for (const size of pass.sizes) {
            const cell = cellKey(size, pass.deflate);
            const before = await server.request('stats');
            const x = await client.request('run', { size, window, warmupMs, durationMs }, 120_000);
            const after = await server.request('stats');
            if (x.stalled || x.lost > 0) notes.push(`${name} ${cell} run ${r + 1}: ${x.stalled ? 'stalled' : ''} ${x.lost} deliveries missing`);
            push(res, `${cell}|${name}`, x.deliveriesPerSec);
            push(cpu, `${cell}|${name}`, ((after.cpuUs - before.cpuUs) / 1e3 / Math.max(1, after.t - before.t)) * 100);
            push(cpu, `${cell}|${name}|client`, x.cpuPct);
            push(cpu, `${cell}|${name}|perDelivery`, (after.cpuUs - before.cpuUs) / Math.max(1, x.delivered));
          }
        } catch (e) {
          notes.push(`${name}${pass.deflate ? ' compressed' : ''} run ${r + 1}: ${(e as Error).message.split('\n')[0]}`);
          for (const size of pass.sizes) push(res, `${cellKey(size, pass.deflate)}|${name}`, NaN);
        } finally {
          await client.stop();
          await server.stop();
        }
      }
    }
  }
  const names = kinds.map((k) => k[0]);
  const paired = (cell: string, a: string, b: string) => {
    const A = res.get(`${cell}|${a}`) ?? [];
    const B = res.get(`${cell}|${b}`) ?? [];
    return median(A.map((x, i) => x / B[i]!).filter(Number.isFinite));
  };
  const peers = names.filter((x) => x !== 'ours');
  // How far the Node floor itself trails uWS: the part of ours/uWS.js no library on `net` can close.
  const floorOf = names.includes('uWS.js') ? ['uWS.js'] : [];
  const cells = [...sizes.map((size) => cellKey(size, false)), cellKey(1024, true)];
  const dash = (cell: string, nm: string, f: () => string): string => (cell.endsWith('compressed') && nm === 'raw net' ? '—' : f());
  const rows = cells.map((cell) => [
    cell,
    ...names.map((nm) => dash(cell, nm, () => fmtMed(res.get(`${cell}|${nm}`) ?? []))),
    ...peers.map((p) => dash(cell, p, () => fmtRatio(paired(cell, 'ours', p)))),
    ...floorOf.map((p) => dash(cell, 'raw net', () => fmtRatio(paired(cell, p, 'raw net')))),
    names.map((nm) => dash(cell, nm, () => fmtNum(median(cpu.get(`${cell}|${nm}`) ?? []), 2))).join(' / '),
    names.map((nm) => dash(cell, nm, () => fmtNum(median(cpu.get(`${cell}|${nm}|client`) ?? []), 2))).join(' / '),
    names.map((nm) => dash(cell, nm, () => fmtNum(median(cpu.get(`${cell}|${nm}|perDelivery`) ?? []), 3))).join(' / '),
  ]);
  for (const row of rows) ctx.log(`  ${row.join(' | ')}`);
  const env = describeEnv(commandLine(ctx.scriptUrl, ctx.argv));
  upsertSection(ctx.out, 'fanout', ['## Fan-out: one publisher, many subscribers', '', envLines(env), '',
    `${n} subscribers and one publisher (raw sockets in one client process, bench/fanout-peer.ts) against each server in its own ` +
    'process; every connection is subscribed to one topic and what the publisher sends goes to all the others: ours with ' +
    '`ws.publish` (framed once for all), uWebSockets.js with `ws.publish`, `ws` with a `for` loop over `wss.clients` calling `send`, ' +
    'raw net with bare `net` (unmask, frame once, one `socket.write` per socket per tick of the frames joined once: bench/fanout-raw.ts, ' +
    'the floor of Node\'s own write path). ' +
    'The compressed row runs its own servers with permessage-deflate on (threshold 1 KiB; uWS.js with `SHARED_COMPRESSOR`) and ' +
    'subscribers offering `server_no_context_takeover` (the setting under which one compressed copy can serve every subscriber), ' +
    'with JSON-like text; raw net has no compressed mode. ' +
    `${window} messages in flight across the fan-out; ${warmupMs} ms warm-up, ${durationMs} ms measured; ${ctx.runs} run(s), servers ` +
    'rotated run by run; ratios are the median of the per-run ratios. Deliveries/s = messages received by all subscribers per second; ' +
    'server CPU µs per delivery = the server\'s CPU time over a size\'s whole run (warm-up included) / the deliveries of that run.', '',
    mdTable(['message', ...names.map((x) => `${x} deliveries/s`), ...peers.map((p) => `ours/${p}`), ...floorOf.map((p) => `${p}/raw net`),
      `server CPU % (${names.join(' / ')})`, 'client CPU %', `server CPU µs/delivery (${names.join(' / ')})`], rows),
    '', ...(notes.length ? ['Notes:', '', ...notes.map((x) => `- ${x}`), ''] : [])].join('\n'));
  ctx.log(`wrote section fanout of ${ctx.out}`);
}
