// An 8-bit LZ77 window: zlib cannot deflate raw with windowBits 8, so our
// compressor uses 9. These tests show that is safe for a peer that inflates
// with a 256-byte window, and that the inflater really applies the window.
import t from 'tap';
import * as zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { compress, decompress, hex, pair } from './helpers.js';

const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH };

/** Random blocks repeated at distances around and past 256. */
function farRepeats(): Buffer {
  const parts: Buffer[] = [];
  for (const dist of [200, 250, 251, 255, 256, 257, 260, 300, 400, 511, 512, 600, 1000]) {
    const r = randomBytes(dist);
    parts.push(r, r, r);
  }
  return Buffer.concat(parts);
}

t.test('8-bit client window: output inflates with a 256-byte window fed in small pieces', async (t) => {
  const { server, client } = pair({ clientMaxWindowBits: 8, serverMaxWindowBits: 8 });
  // One plain zlib inflater per direction, kept across messages (context takeover).
  // chunkSize 64 forces it to take history from its 256-byte window, not the output buffer.
  const inflaters = [client, server].map(() => zlib.createInflateRaw({ windowBits: 8, chunkSize: 64 }));
  t.teardown(() => { server.dispose(); client.dispose(); for (const i of inflaters) i.close(); });
  const inflate = (z: zlib.InflateRaw, wire: Buffer) => new Promise<Buffer>((resolve, reject) => {
    const out: Buffer[] = [];
    const onData = (c: Buffer) => out.push(c);
    z.on('data', onData);
    z.once('error', reject);
    z.write(Buffer.concat([wire, hex('00 00 ff ff')]));
    z.flush(zlib.constants.Z_SYNC_FLUSH, () => { z.off('data', onData); z.off('error', reject); resolve(Buffer.concat(out)); });
  });
  for (let round = 0; round < 20; round++) {
    const data = farRepeats();
    for (const [i, from] of [client, server].entries()) {
      const wire = await compress(from, data);
      const inflated = await inflate(inflaters[i]!, wire);
      t.ok(inflated.equals(data), `round ${round} ${from === client ? 'client' : 'server'}`);
    }
  }
});

t.test('the same data compressed with a 15-bit window does not fit an 8-bit inflater', async (t) => {
  // Proves the check above can fail: far matches exist in this data.
  const data = farRepeats();
  const wire = zlib.deflateRawSync(data, { ...SYNC, windowBits: 15 });
  t.throws(() => zlib.inflateRawSync(wire, { ...SYNC, windowBits: 8, chunkSize: 64 }), /too far back/);
  // Our inflater negotiated at 8 bits applies the window too: 1007.
  const { client } = pair({ serverMaxWindowBits: 8 });
  t.teardown(() => client.dispose());
  let err: any = null;
  // Feed in small fragments so history must come from the window.
  const body = wire.subarray(0, -4);
  for (let i = 0; i < body.length && !err; i += 64) {
    err = await decompress(client, body.subarray(i, i + 64), i + 64 >= body.length).then(() => null, (e) => e);
  }
  t.equal(err?.closeCode, 1007);
});

t.test('8-bit windows round trip through our own transforms', async (t) => {
  const { server, client } = pair({ clientMaxWindowBits: 8, serverMaxWindowBits: 8 });
  t.teardown(() => { server.dispose(); client.dispose(); });
  for (let i = 0; i < 5; i++) {
    const data = farRepeats();
    t.same(await decompress(client, await compress(server, data)), data);
    t.same(await decompress(server, await compress(client, data)), data);
  }
});
