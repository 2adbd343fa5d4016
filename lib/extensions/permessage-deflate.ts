/**
 * permessage-deflate (RFC 7692) on node:zlib: the public entry point of the
 * extension (negotiation, options, and the MessageTransform).
 */

import type { MessageTransform } from '../protocol/extension.js';
import { InvalidArgumentError } from '../errors.js';
import { Compressor } from './compressor.js';
import { Decompressor } from './decompressor.js';
import {
  DEFAULT_LEVEL, DEFAULT_MEM_LEVEL, DEFAULT_THRESHOLD, MAX_WINDOW_BITS, MIN_WINDOW_BITS, validateDeflateOptions,
  type DeflateParams, type PerMessageDeflateOptions,
} from './deflate-options.js';

export {
  DEFAULT_LEVEL, DEFAULT_MEM_LEVEL, DEFAULT_THRESHOLD, PERMESSAGE_DEFLATE, resolveDeflateOptions, validateDeflateOptions,
  type DeflateParams, type PerMessageDeflateOptions, type ValidDeflateOptions,
} from './deflate-options.js';
export { negotiateServer, clientOffer, acceptServerResponse, ERR_EXTENSION_NEGOTIATION } from './negotiation.js';
export { setZlibConcurrency, DEFAULT_ZLIB_CONCURRENCY } from './zlib-limiter.js';

/**
 * The permessage-deflate MessageTransform for one connection. zlib contexts
 * are created on first use; a direction negotiated without context takeover
 * frees its context after every message, so an idle connection then holds no
 * zlib memory for it. All zlib work goes through a process-wide limiter
 * (see {@link setZlibConcurrency}).
 *
 * Compression over TLS of secrets next to attacker-chosen data leaks them
 * (CRIME/BREACH): send such messages with `compress: false`.
 */
export class PerMessageDeflate implements MessageTransform {
  /** Messages smaller than this many bytes should be sent uncompressed (applied by the caller). */
  readonly threshold: number;
  /** The negotiated parameters this transform runs with. */
  readonly params: Readonly<DeflateParams>;
  private readonly compressor: Compressor;
  private readonly decompressor: Decompressor;

  /**
   * @param role our side of the connection.
   * @param params the negotiated parameters (from negotiateServer / acceptServerResponse).
   * @param opts level, memLevel, threshold, and maxPayload (the largest inflated
   *   message in bytes; larger fails with 1009; 0 = no limit).
   * @throws InvalidArgumentError on invalid options or parameters.
   */
  constructor(role: 'server' | 'client', params: DeflateParams, opts: PerMessageDeflateOptions & { maxPayload: number }) {
    validateDeflateOptions(opts);
    if (role !== 'server' && role !== 'client') throw new InvalidArgumentError(`role must be 'server' or 'client', got ${String(role)}`);
    for (const bits of [params.serverMaxWindowBits, params.clientMaxWindowBits]) {
      if (!Number.isInteger(bits) || bits < MIN_WINDOW_BITS || bits > MAX_WINDOW_BITS) {
        throw new InvalidArgumentError(`negotiated window bits must be from 8 to 15, got ${String(bits)}`);
      }
    }
    if (!(typeof opts.maxPayload === 'number' && opts.maxPayload >= 0)) {
      throw new InvalidArgumentError(`maxPayload must be a number >= 0, got ${String(opts.maxPayload)}`);
    }
    this.params = Object.freeze({ ...params });
    this.threshold = opts.threshold ?? DEFAULT_THRESHOLD;
    const server = role === 'server';
    this.compressor = new Compressor({
      windowBits: server ? params.serverMaxWindowBits : params.clientMaxWindowBits,
      noContextTakeover: server ? params.serverNoContextTakeover : params.clientNoContextTakeover,
      level: opts.level ?? DEFAULT_LEVEL,
      memLevel: opts.memLevel ?? DEFAULT_MEM_LEVEL,
    });
    this.decompressor = new Decompressor({
      windowBits: server ? params.clientMaxWindowBits : params.serverMaxWindowBits,
      noContextTakeover: server ? params.clientNoContextTakeover : params.serverNoContextTakeover,
      maxPayload: opts.maxPayload,
    });
  }

  compress(data: Buffer, fin: boolean, cb: (err: Error | null, out?: Buffer) => void): void {
    this.compressor.compress(data, fin, cb);
  }

  decompress(data: Buffer, fin: boolean, cb: (err: Error | null, out?: Buffer) => void): void {
    this.decompressor.decompress(data, fin, cb);
  }

  decompressStream(data: Buffer, fin: boolean, limit: number, onData: (chunk: Buffer) => void, cb: (err: Error | null) => void): void {
    this.decompressor.decompressStream(data, fin, limit, onData, cb);
  }

  pauseOutput(): void {
    this.decompressor.pauseOutput();
  }

  resumeOutput(): void {
    this.decompressor.resumeOutput();
  }

  dispose(): void {
    this.compressor.dispose();
    this.decompressor.dispose();
  }
}
