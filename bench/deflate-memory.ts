/**
 * Memory per connection with permessage-deflate on, for each window size.
 *
 *   npx tsc -p . && node --expose-gc dist/bench/deflate-memory.js [connections]
 *
 * Each configuration runs in a fresh child process: N transforms (one per
 * connection, server role) each compress one ~15 KiB JSON message and inflate one,
 * so both zlib contexts exist (the worst case: context takeover keeps them).
 * Reported per connection: (RSS after - RSS before) / N, which includes zlib's
 * native state, and `external`, which here is the output buffer each Node zlib
 * stream keeps allocated (16 KiB per stream; Node does not count zlib's own
 * allocations there).
 */

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PerMessageDeflate, type DeflateParams } from '../lib/extensions/permessage-deflate.js';

const MESSAGE = Buffer.from(JSON.stringify(Array.from({ length: 400 }, (_, i) => ({ id: i, name: `item-${i}`, ok: i % 3 === 0 }))));

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function run(fn: (done: () => void) => void): Promise<void> {
  return new Promise((resolve) => fn(resolve));
}

async function child(n: number, bits: number, noContextTakeover: boolean, memLevel: number): Promise<void> {
  const params: DeflateParams = {
    serverNoContextTakeover: noContextTakeover, clientNoContextTakeover: noContextTakeover,
    serverMaxWindowBits: bits, clientMaxWindowBits: bits,
  };
  // A peer to produce input for our inflaters (not counted).
  const peer = new PerMessageDeflate('client', params, { maxPayload: 0, memLevel });
  const wire = await new Promise<Buffer>((resolve, reject) => peer.compress(MESSAGE, true, (e, out) => (e ? reject(e) : resolve(out!))));
  peer.dispose();

  gc(); gc();
  const before = process.memoryUsage();
  const list: PerMessageDeflate[] = [];
  for (let i = 0; i < n; i++) {
    const d = new PerMessageDeflate('server', params, { maxPayload: 0, memLevel });
    list.push(d);
    await run((done) => d.compress(MESSAGE, true, () => d.decompress(wire, true, () => done())));
  }
  gc(); gc();
  const after = process.memoryUsage();
  for (const d of list) d.dispose();
  const per = (k: 'rss' | 'external') => Math.round((after[k] - before[k]) / n / 1024);
  process.stdout.write(JSON.stringify({ rssKiB: per('rss'), externalKiB: per('external') }) + '\n');
}

function main(): void {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === '--child') {
    const [n, bits, nct, memLevel] = rest.map(Number);
    void child(n!, bits!, nct === 1, memLevel!);
    return;
  }
  const n = Number(mode ?? 1000);
  const self = fileURLToPath(import.meta.url);
  console.log(`permessage-deflate memory per connection (${n} connections, one ~15 KiB JSON message each way), Node ${process.version}`);
  console.log('| window bits | memLevel | context takeover | RSS KiB/conn | JS buffers (external) KiB/conn |');
  console.log('|---|---|---|---|---|');
  const configs: Array<[number, boolean, number]> = [];
  for (let bits = 8; bits <= 15; bits++) configs.push([bits, false, 8]);
  configs.push([15, false, 1], [15, true, 8]);
  for (const [bits, nct, memLevel] of configs) {
    const r = spawnSync(process.execPath, ['--expose-gc', self, '--child', String(n), String(bits), nct ? '1' : '0', String(memLevel)], { encoding: 'utf8' });
    if (r.status !== 0) { console.error(r.stderr); process.exitCode = 1; return; }
    const { rssKiB, externalKiB } = JSON.parse(r.stdout) as { rssKiB: number; externalKiB: number };
    console.log(`| ${bits}${bits === 8 ? ' (deflates with 9)' : ''} | ${memLevel} | ${nct ? 'no (released per message)' : 'yes'} | ${rssKiB} | ${externalKiB} |`);
  }
}

main();
