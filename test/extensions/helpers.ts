/** Promise wrappers over the callback MessageTransform API, for tests. */

import type { MessageTransform } from '../../lib/protocol/extension.js';
import { PerMessageDeflate, type DeflateParams, type PerMessageDeflateOptions } from '../../lib/extensions/permessage-deflate.js';

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+|0x|,/g, ''), 'hex');

export function compress(t: MessageTransform, data: Buffer | string, fin = true): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    t.compress(Buffer.from(data), fin, (err, out) => (err ? reject(err) : resolve(out!)));
  });
}

export function decompress(t: MessageTransform, data: Buffer, fin = true): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    t.decompress(data, fin, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

export const defaultParams = (over: Partial<DeflateParams> = {}): DeflateParams => ({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
  ...over,
});

/** A server-side and a client-side transform with the same parameters. */
export function pair(params: Partial<DeflateParams> = {}, opts: PerMessageDeflateOptions & { maxPayload?: number } = {}) {
  const p = defaultParams(params);
  const o = { maxPayload: 0, ...opts };
  return { server: new PerMessageDeflate('server', p, o), client: new PerMessageDeflate('client', p, o) };
}
