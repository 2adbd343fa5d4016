import type { HeadLimits } from './limits.js';
import { isFieldValue, isFieldValueCode, isOws, isTchar, isToken, trimOws } from './tokens.js';

/** A header field as received: original name case, value with surrounding OWS removed. */
export type HeaderField = [name: string, value: string];

export interface RequestHead {
  method: string;
  /** The request-target exactly as sent. */
  target: string;
  /** "1.1", "1.0", ... */
  httpVersion: string;
  headers: HeaderField[];
}

export interface ResponseHead {
  httpVersion: string;
  status: number;
  statusText: string;
  headers: HeaderField[];
}

/** Why a head was refused; the server maps these to 400 / 414 / 431. */
export type HeadFailure = 'malformed' | 'head-too-large' | 'too-many-headers' | 'line-too-long' | 'start-line-too-long';

export class HeadParseError extends Error {
  readonly reason: HeadFailure;

  constructor(reason: HeadFailure, message: string) {
    super(message);
    this.name = 'HeadParseError';
    this.reason = reason;
  }
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const EMPTY = Buffer.alloc(0);
const REQUEST_LINE_RE = /^([^ ]+) ([^ ]+) HTTP\/([0-9])\.([0-9])$/;
const STATUS_LINE_RE = /^HTTP\/([0-9])\.([0-9]) ([0-9]{3})(?: (.*))?$/;

/**
 * Incremental HTTP/1.1 head parser. Feed it chunks as they arrive (one byte at
 * a time works); it buffers at most one partial line, never more than the
 * limits allow, and touches every byte a bounded number of times: linear time
 * whatever the input. Lines end in CRLF (a bare LF is tolerated, RFC 9112
 * §2.2); a bare CR, obsolete line folding, control characters in values and
 * whitespace before the colon are refused.
 */
export class HeadParser<K extends 'request' | 'response'> {
  private readonly kind: K;
  private readonly limits: HeadLimits;
  private partial: Buffer[] = [];
  private partialLength = 0;
  private total = 0;
  /** The start line's fields, with `headers` (this.headers, filled as lines arrive): the head once complete. */
  private start: RequestHead | ResponseHead | null = null;
  private readonly headers: HeaderField[] = [];
  private finished = false;

  constructor(kind: K, limits: HeadLimits) {
    this.kind = kind;
    this.limits = limits;
  }

  /**
   * Consume `chunk`. Returns null while the head is incomplete; once the blank
   * line is seen, returns the head and the bytes of `chunk` that follow it.
   * Throws HeadParseError on a malformed head or a passed limit.
   */
  push(chunk: Buffer): { head: K extends 'request' ? RequestHead : ResponseHead; rest: Buffer } | null {
    if (this.finished) throw new Error('HeadParser: head already complete');
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(LF, pos);
      const end = nl === -1 ? chunk.length : nl + 1;
      this.total += end - pos;
      if (this.total > this.limits.maxHeadSize) {
        throw new HeadParseError('head-too-large', `head larger than ${this.limits.maxHeadSize} bytes`);
      }
      if (nl === -1) {
        this.partialLength += end - pos;
        // +1: the CR of a CRLF may already be here while its LF is still in flight.
        if (this.partialLength > this.limits.maxHeaderLineLength + 1) this.lineTooLong();
        this.partial.push(chunk.subarray(pos));
        return null;
      }
      let done: boolean;
      if (this.partial.length === 0) {
        // The usual case, a whole line in this chunk: read it in place (no Buffer view per line).
        done = this.line(chunk, pos, nl);
      } else {
        this.partial.push(chunk.subarray(pos, nl));
        const line = Buffer.concat(this.partial);
        this.partial = [];
        this.partialLength = 0;
        done = this.line(line, 0, line.length);
      }
      pos = end;
      if (done) {
        this.finished = true;
        // Most heads end their chunk: one shared empty rest rather than a zero-length view each.
        return { head: this.start as never, rest: pos === chunk.length ? EMPTY : chunk.subarray(pos) };
      }
    }
    return null;
  }

  /** Bytes consumed so far (the head size once complete). */
  get size(): number {
    return this.total;
  }

  private lineTooLong(): never {
    if (this.start === null) {
      throw new HeadParseError('start-line-too-long', `start line longer than ${this.limits.maxHeaderLineLength} bytes`);
    }
    throw new HeadParseError('line-too-long', `header line longer than ${this.limits.maxHeaderLineLength} bytes`);
  }

  /** Handle one line, `buf[from, to)` without its LF; true when it was the blank line ending the head. */
  private line(buf: Buffer, from: number, to: number): boolean {
    let length = to - from;
    if (length > 0 && buf[to - 1] === CR) length--;
    if (length > this.limits.maxHeaderLineLength) this.lineTooLong();
    if (this.start === null) {
      const text = buf.toString('latin1', from, from + length);
      // Searched in the line's own text: bounded by the line, whatever follows in the chunk.
      if (text.indexOf('\r') !== -1) malformed('bare CR in head');
      // RFC 9112 §2.2: a server should ignore empty lines before the request line.
      if (text === '') {
        if (this.kind === 'request') return false;
        malformed('empty status line');
      }
      this.start = this.kind === 'request' ? requestLine(text, this.headers) : statusLine(text, this.headers);
      return false;
    }
    if (length === 0) return true;
    this.header(buf, from, from + length);
    return false;
  }

  /**
   * A header line `buf[from, end)`, read from the bytes: only its name and its
   * trimmed value become strings (no string of the whole line, no slices of it).
   * A line that fails any check is handed to {@link refuseHeader} for the reason.
   */
  private header(buf: Buffer, from: number, end: number): void {
    let colon = from;
    while (colon < end && buf[colon] !== COLON) colon++;
    let ok = colon > from && colon < end;
    // A valid name is all tchars, so it holds no CR and cannot start with SP / HTAB (folding).
    for (let i = from; ok && i < colon; i++) ok = isTchar(buf[i]);
    let vs = colon + 1;
    let ve = end;
    while (vs < ve && isOws(buf[vs])) vs++;
    while (ve > vs && isOws(buf[ve - 1])) ve--;
    // CR is not a field-value byte: a line that passes has no bare CR anywhere.
    for (let i = vs; ok && i < ve; i++) ok = isFieldValueCode(buf[i]);
    if (!ok) refuseHeader(buf.toString('latin1', from, end));
    if (this.headers.length >= this.limits.maxHeaders) {
      throw new HeadParseError('too-many-headers', `more than ${this.limits.maxHeaders} header fields`);
    }
    this.headers.push([buf.toString('latin1', from, colon), buf.toString('latin1', vs, ve)]);
  }
}

/** Throw the reason a header line is refused, checked in this order. */
function refuseHeader(text: string): never {
  if (text.indexOf('\r') !== -1) malformed('bare CR in head');
  const first = text.charCodeAt(0);
  if (first === 0x20 || first === 0x09) malformed('obsolete line folding');
  const colon = text.indexOf(':');
  if (colon <= 0) malformed('header line without a field name');
  const name = text.slice(0, colon);
  if (!isToken(name)) malformed(`invalid header field name ${JSON.stringify(name)}`);
  const value = trimOws(text.slice(colon + 1));
  if (!isFieldValue(value)) malformed(`control character in header ${name}`);
  malformed('malformed header line');
}

function requestLine(line: string, headers: HeaderField[]): RequestHead {
  const m = REQUEST_LINE_RE.exec(line);
  if (m === null || !isToken(m[1]) || !isTarget(m[2])) malformed('malformed request line');
  return { method: m[1], target: m[2], httpVersion: `${m[3]}.${m[4]}`, headers };
}

function statusLine(line: string, headers: HeaderField[]): ResponseHead {
  const m = STATUS_LINE_RE.exec(line);
  if (m === null) malformed('malformed status line');
  return { httpVersion: `${m[1]}.${m[2]}`, status: Number(m[3]), statusText: m[4] ?? '', headers };
}

/** Visible ASCII only: a request-target never carries spaces, controls or raw non-ASCII. */
function isTarget(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

function malformed(message: string): never {
  throw new HeadParseError('malformed', message);
}
