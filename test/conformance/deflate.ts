/**
 * permessage-deflate (RFC 7692) on node:zlib for the scripted peer, independent of
 * lib/extensions: compress = deflateRaw + Z_SYNC_FLUSH with the trailing 00 00 ff ff
 * stripped; inflate appends it back. Context takeover keeps one zlib stream.
 */
import zlib from 'node:zlib';

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

export interface PeerDeflateParams {
  /** LZ77 window of this side's compressor / the other side's decompressor. */
  windowBits?: number;
  /** A fresh zlib stream for every message. */
  noContextTakeover?: boolean;
}

type Z = zlib.DeflateRaw | zlib.InflateRaw;

function run(z: Z, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (c: Buffer) => chunks.push(c);
    const onError = (e: Error) => { z.off('data', onData); reject(e); };
    z.on('data', onData);
    z.once('error', onError);
    z.write(data);
    z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      z.off('data', onData);
      z.off('error', onError);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** Compresses whole messages as the peer's side of a negotiated permessage-deflate. */
export class PeerDeflater {
  private z: zlib.DeflateRaw | null = null;
  constructor(private readonly p: PeerDeflateParams = {}) {}

  private stream(): zlib.DeflateRaw {
    if (!this.z || this.p.noContextTakeover) {
      this.z?.close();
      this.z = zlib.createDeflateRaw({ windowBits: this.p.windowBits ?? 15 });
    }
    return this.z;
  }

  /** The frame payload of one compressed message (tail stripped). */
  async compress(data: Buffer | string): Promise<Buffer> {
    const out = await run(this.stream(), typeof data === 'string' ? Buffer.from(data) : data);
    if (out.length >= 4 && out.subarray(out.length - 4).equals(TAIL)) return out.subarray(0, out.length - 4);
    return out;
  }

  close(): void { this.z?.close(); this.z = null; }
}

/** Inflates whole compressed messages received by the peer. */
export class PeerInflater {
  private z: zlib.InflateRaw | null = null;
  constructor(private readonly p: PeerDeflateParams = {}) {}

  async inflate(payload: Buffer): Promise<Buffer> {
    if (!this.z || this.p.noContextTakeover) {
      this.z?.close();
      this.z = zlib.createInflateRaw({ windowBits: this.p.windowBits ?? 15 });
    }
    return run(this.z, Buffer.concat([payload, TAIL]));
  }

  close(): void { this.z?.close(); this.z = null; }
}

/** The negotiated permessage-deflate parameters, as the peer reads a response header. */
export interface DeflateAgreement {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number;
}

/**
 * Parses a Sec-WebSocket-Extensions value that must hold exactly one valid
 * permessage-deflate response (RFC 7692 section 7.1). Returns null when the header
 * is absent/empty; throws when it is present but not a valid response.
 */
export function parseDeflateResponse(value: string | undefined): DeflateAgreement | null {
  if (value === undefined || value.trim() === '') return null;
  const exts = value.split(',');
  if (exts.length !== 1) throw new Error(`more than one extension in the response: ${value}`);
  const [name, ...params] = exts[0].split(';').map((s) => s.trim());
  if (name !== 'permessage-deflate') throw new Error(`unexpected extension ${name}`);
  const a: DeflateAgreement = { serverNoContextTakeover: false, clientNoContextTakeover: false };
  const seen = new Set<string>();
  for (const p of params) {
    const eq = p.indexOf('=');
    const k = (eq < 0 ? p : p.slice(0, eq)).trim();
    const raw = eq < 0 ? undefined : p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    if (seen.has(k)) throw new Error(`duplicate parameter ${k}`);
    seen.add(k);
    const bits = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : NaN;
    switch (k) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (raw !== undefined) throw new Error(`${k} takes no value`);
        if (k === 'server_no_context_takeover') a.serverNoContextTakeover = true; else a.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
      case 'client_max_window_bits':
        if (!(bits >= 8 && bits <= 15)) throw new Error(`${k} needs a value 8..15 in a response, got ${raw}`);
        if (k === 'server_max_window_bits') a.serverMaxWindowBits = bits; else a.clientMaxWindowBits = bits;
        break;
      default:
        throw new Error(`unknown parameter ${k}`);
    }
  }
  return a;
}

/** The peer's compressor/decompressor settings for its role under an agreement. */
export function peerCodecs(role: 'client' | 'server', a: DeflateAgreement): { deflater: PeerDeflater; inflater: PeerInflater } {
  const client = { windowBits: a.clientMaxWindowBits, noContextTakeover: a.clientNoContextTakeover };
  const server = { windowBits: a.serverMaxWindowBits, noContextTakeover: a.serverNoContextTakeover };
  return role === 'client'
    ? { deflater: new PeerDeflater(client), inflater: new PeerInflater(server) }
    : { deflater: new PeerDeflater(server), inflater: new PeerInflater(client) };
}
