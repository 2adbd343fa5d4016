/**
 * Autobahn testee client for the suite's fuzzingserver: asks /getCaseCount, runs every
 * case via /runCase echoing every message, then asks /updateReports to write the report.
 *   npm run conformance:client -- --url ws://127.0.0.1:9001 --agent rfcws
 */
import { connect, type WebSocket } from '../lib/index.js';
import { parseArgs } from './args.js';
import { echo, TESTEE_DEFLATE, TESTEE_LIMITS } from './echo.js';

/** A case the fuzzingserver never ends is abandoned after this long. */
const CASE_TIMEOUT_MS = 120_000;

function open(url: string): Promise<WebSocket> {
  return connect(url, { perMessageDeflate: TESTEE_DEFLATE, ...TESTEE_LIMITS });
}

function closed(ws: WebSocket, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { ws.terminate(); resolve(); }, timeoutMs);
    ws.once('close', () => { clearTimeout(timer); resolve(); });
  });
}

async function caseCount(base: string): Promise<number> {
  const ws = await open(`${base}/getCaseCount`);
  ws.on('error', () => {});
  const count = await new Promise<number>((resolve, reject) => {
    ws.once('message', (data: Buffer) => resolve(Number(data.toString('utf8'))));
    ws.once('close', () => reject(new Error('the fuzzingserver closed before sending the case count')));
  });
  await closed(ws, 10_000);
  if (!Number.isInteger(count) || count < 0) throw new Error('the fuzzingserver sent an invalid case count');
  return count;
}

async function runCase(base: string, n: number, agent: string): Promise<void> {
  let ws: WebSocket;
  try {
    ws = await open(`${base}/runCase?case=${n}&agent=${encodeURIComponent(agent)}`);
  } catch (err) {
    // Some cases end the handshake on purpose; the report records the outcome.
    console.error(`case ${n}: ${(err as Error).message}`);
    return;
  }
  echo(ws);
  await closed(ws, CASE_TIMEOUT_MS);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { url: 'ws://127.0.0.1:9001', agent: 'rfcws' });
  const base = args.url.replace(/\/+$/, '');
  const count = await caseCount(base);
  console.log(`running ${count} cases as agent "${args.agent}" against ${base}`);
  for (let n = 1; n <= count; n++) {
    await runCase(base, n, args.agent);
    if (n % 50 === 0 || n === count) console.log(`${n}/${count}`);
  }
  const ws = await open(`${base}/updateReports?agent=${encodeURIComponent(args.agent)}`);
  ws.on('error', () => {});
  await closed(ws, 60_000);
  console.log('reports updated');
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(2);
});
