/**
 * Runs one table case against the library in either role: the library's echo server
 * driven by a scripted client, or the library's client (via connect()) answered by a
 * scripted server. A case says what the peer sends and what must come back.
 */
import type { Test } from 'tap';
import { connect, WebSocketServer, type PerMessageDeflateOptions, type WebSocket } from '../../lib/index.js';
import { echo, TESTEE_DEFLATE, TESTEE_LIMITS } from '../../conformance/echo.js';
import { closePayload, fragments, headerLength, OP, sframe, toBuf, type FrameSpec } from '../helpers/frames.js';
import { parseDeflateResponse, peerCodecs, type DeflateAgreement, type PeerDeflater } from './deflate.js';
import { dial, Peer, pause, scriptedServer, type PeerEvent } from './peer.js';

/** The library's role in a case. */
export type Role = 'server' | 'client';

export type Step =
  /** Frames, encoded as the peer's role requires (unless a spec overrides mask). */
  | { send: FrameSpec | FrameSpec[]; chunk?: number; delayMs?: number }
  /** Exact bytes. */
  | { raw: Buffer; chunk?: number; delayMs?: number }
  /** The header of one frame and only the first `payloadBytes` bytes of its payload (left unfinished). */
  | { prefix: FrameSpec; payloadBytes: number; chunk?: number; delayMs?: number }
  /** One message compressed with the peer's negotiated deflater, optionally fragmented. */
  | { deflate: Buffer | string; binary?: boolean; fragment?: number; chunk?: number; delayMs?: number }
  /** The library's close frame must arrive now, before anything else is sent. */
  | { awaitClose: true }
  /** Wait until this many events (messages, pongs...) have come back. */
  | { awaitEvents: number }
  | { sleep: number };

export type Expected =
  | { kind: 'message'; binary: boolean; data: Buffer }
  | { kind: 'ping' | 'pong'; data: Buffer };

export interface Case {
  /** Autobahn-style id, e.g. "5.15". */
  id: string;
  title: string;
  /** Default: both roles. */
  roles?: Role[];
  steps: Step[] | (() => Step[]);
  /** Non-close events that must come back, in order (messages compared after inflating). */
  events?: Expected[] | (() => Expected[]);
  /** Code of the library's close frame; 1005 = a close frame without payload. */
  close: number;
  closeReason?: string;
  /** Server role: the extension offer; client role: the library client's deflate options. */
  deflate?: { offer?: string; answer?: string | ((offer: string) => string); client?: boolean | PerMessageDeflateOptions };
  /** Client role: frames the scripted server writes in the same write as its 101 head. */
  withHandshake?: FrameSpec[];
  /** Every echoed data message must be compressed (RSV1). */
  expectCompressed?: boolean;
  timeoutMs?: number;
}

export const text = (s: string | Buffer): Expected => ({ kind: 'message', binary: false, data: toBuf(s) });
export const binary = (b: Buffer | string): Expected => ({ kind: 'message', binary: true, data: toBuf(b) });
export const pong = (b: Buffer | string = ''): Expected => ({ kind: 'pong', data: toBuf(b) });

/** Frame constructors for the tables. */
export const F = {
  text: (p: Buffer | string = '', o: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OP.TEXT, payload: p, ...o }),
  binary: (p: Buffer | string = '', o: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OP.BINARY, payload: p, ...o }),
  cont: (p: Buffer | string = '', o: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OP.CONT, payload: p, ...o }),
  ping: (p: Buffer | string = '', o: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OP.PING, payload: p, ...o }),
  pong: (p: Buffer | string = '', o: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OP.PONG, payload: p, ...o }),
  close: (code?: number, reason: Buffer | string = '', o: Partial<FrameSpec> = {}): FrameSpec =>
    ({ opcode: OP.CLOSE, payload: closePayload(code, reason), ...o }),
  op: (opcode: number, p: Buffer | string = '', o: Partial<FrameSpec> = {}): FrameSpec => ({ opcode, payload: p, ...o }),
  frag: fragments,
};

/** The library side of one case, started per table and reused across its cases. */
export interface Testee {
  role: Role;
  /** Returns a connected peer (and the library's WebSocket for the client role). */
  open(c: Case): Promise<{ peer: Peer; agreement: DeflateAgreement | null; ws?: WebSocket; cleanup(): Promise<void> }>;
  close(): Promise<void>;
}

export async function startTestee(role: Role): Promise<Testee> {
  if (role === 'server') {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: TESTEE_DEFLATE, ...TESTEE_LIMITS });
    server.on('connection', echo);
    server.on('error', () => {});
    const { port } = await server.listen();
    return {
      role,
      async open(c) {
        const hs = await dial(port, { extensions: c.deflate?.offer });
        if (!hs.peer) throw new Error(`upgrade refused: ${hs.status}`);
        const agreement = parseDeflateResponse(hs.headers['sec-websocket-extensions']);
        return { peer: hs.peer, agreement, cleanup: async () => { hs.socket.destroy(); } };
      },
      close: () => server.close(100),
    };
  }
  return {
    role,
    async open(c) {
      let answer: string | undefined;
      const scripted = await scriptedServer((req) => {
        const a = c.deflate?.answer;
        answer = typeof a === 'function' ? a(req.headers['sec-websocket-extensions'] ?? '') : a;
        const headers: Record<string, string> = answer ? { 'Sec-WebSocket-Extensions': answer } : {};
        const after = c.withHandshake ? Buffer.concat(c.withHandshake.map((f) => sframe(f))) : undefined;
        return { headers, after };
      });
      const accepted = scripted.accept();
      const clientDeflate = c.deflate?.client ?? TESTEE_DEFLATE;
      let ws: WebSocket;
      try {
        ws = await connect(scripted.url, { perMessageDeflate: clientDeflate, ...TESTEE_LIMITS });
      } catch (err) {
        void scripted.close();
        throw err;
      }
      echo(ws);
      const { peer } = await accepted;
      const agreement = parseDeflateResponse(answer);
      return {
        peer, agreement, ws,
        cleanup: async () => { ws.terminate(); peer.destroy(); await scripted.close(); },
      };
    },
    close: async () => {},
  };
}

function resolveSteps(c: Case): Step[] {
  return typeof c.steps === 'function' ? c.steps() : c.steps;
}

function isCloseSpec(s: FrameSpec | FrameSpec[]): boolean {
  return (Array.isArray(s) ? s : [s]).some((f) => f.opcode === OP.CLOSE);
}

async function deflateFrames(d: PeerDeflater, step: Extract<Step, { deflate: unknown }>): Promise<FrameSpec[]> {
  const payload = await d.compress(toBuf(step.deflate));
  return fragments(step.binary ? OP.BINARY : OP.TEXT, payload, step.fragment ?? (payload.length || 1), 4);
}

export interface Outcome {
  peer: Peer;
  /** Events with compressed messages inflated. */
  events: Array<Exclude<PeerEvent, { kind: 'close' }>>;
  close?: Extract<PeerEvent, { kind: 'close' }>;
  inflateError?: string;
}

async function collect(peer: Peer, codecs: ReturnType<typeof peerCodecs> | null): Promise<Outcome> {
  const out: Outcome = { peer, events: [], close: peer.close };
  for (const e of peer.events) {
    if (e.kind === 'close') continue;
    if (e.kind === 'message' && e.compressed) {
      try {
        if (!codecs) throw new Error('compressed message without a negotiated permessage-deflate');
        out.events.push({ ...e, data: await codecs.inflater.inflate(e.data) });
      } catch (err) {
        out.inflateError = (err as Error).message;
        out.events.push(e);
      }
    } else {
      out.events.push(e);
    }
  }
  return out;
}

/** Drives one case and returns what came back; assertions are left to checkCase. */
export async function runCase(testee: Testee, c: Case): Promise<Outcome> {
  const timeout = c.timeoutMs ?? 5000;
  const { peer, agreement, cleanup } = await testee.open(c);
  const peerRole = testee.role === 'server' ? 'client' : 'server';
  const codecs = agreement ? peerCodecs(peerRole, agreement) : null;
  let peerSentClose = false;
  try {
    for (const step of resolveSteps(c)) {
      if (peer.writeFailed) break;
      if ('send' in step) {
        peerSentClose ||= isCloseSpec(step.send);
        await peer.send(step.send, step);
      } else if ('raw' in step) {
        await peer.send(step.raw, step);
      } else if ('prefix' in step) {
        const bytes = peer.encode(step.prefix);
        await peer.send(bytes.subarray(0, headerLength(bytes)! + step.payloadBytes), step);
      } else if ('deflate' in step) {
        if (!codecs) throw new Error('a deflate step without a negotiated permessage-deflate');
        await peer.send(await deflateFrames(codecs.deflater, step), step);
      } else if ('awaitClose' in step) {
        // Strict: the close must come while the rest of the message is still unsent. Any other
        // event arriving first (a pong to a sentinel ping) ends the wait: the case then fails fast.
        const before = peer.events.length;
        await peer.waitFor(() => peer.close !== undefined || peer.events.length > before || peer.remoteClosed,
          Math.min(timeout, 2000), 'the close frame while the message is unfinished');
        // Already failed: do not spend the close timeouts on a library that is not failing.
        if (!peer.close) return collect(peer, codecs);
        break;
      } else if ('awaitEvents' in step) {
        await peer.waitEvents(step.awaitEvents, timeout);
      } else {
        await pause(step.sleep);
      }
    }
    const want = typeof c.events === 'function' ? c.events() : c.events ?? [];
    const dataEvents = () => peer.events.filter((e) => e.kind !== 'close').length;
    await peer.waitFor(() => dataEvents() >= want.length || peer.close !== undefined || peer.remoteClosed, timeout,
      `${want.length} events`).catch(() => {});
    if (!peer.close && !peerSentClose && !peer.remoteClosed && (c.close === 1000 || c.close === 1005)) {
      peerSentClose = true;
      await peer.send({ opcode: OP.CLOSE, payload: closePayload(c.close === 1005 ? undefined : 1000) });
    }
    await peer.waitFor(() => peer.close !== undefined || peer.remoteClosed, timeout, 'a close frame').catch(() => {});
    if (peer.close && !peerSentClose && !peer.remoteClosed) {
      // Complete the closing handshake the library started, as Autobahn does.
      const code = peer.close.code;
      await peer.send({ opcode: OP.CLOSE, payload: closePayload(code === 1005 ? undefined : code) });
    }
    // The server closes TCP first (RFC 6455 section 7.1.1): the scripted server does it itself.
    if (peerRole === 'server' && peer.close) peer.end();
    await peer.waitRemoteClosed(timeout).catch(() => {});
    return await collect(peer, codecs);
  } finally {
    codecs?.deflater.close();
    codecs?.inflater.close();
    await cleanup();
  }
}

function show(b: Buffer): string {
  return b.length > 64 ? `${b.length} B ${b.subarray(0, 32).toString('hex')}...` : `${b.length} B ${b.toString('hex')}`;
}

/** Runs a case and asserts everything the table says must come back. */
export async function checkCase(t: Test, testee: Testee, c: Case): Promise<void> {
  const out = await runCase(testee, c);
  const want = typeof c.events === 'function' ? c.events() : c.events ?? [];
  const got = out.events;
  t.same(out.peer.violations, [], 'the library framed everything correctly');
  t.equal(out.inflateError, undefined, 'compressed messages inflate with the negotiated parameters');
  t.equal(got.length, want.length, `number of events back: ${out.peer.describe()}`);
  // One assertion for all events keeps 1000-message cases readable and fast.
  const mismatches: string[] = [];
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    const g = got[i];
    const w = want[i];
    const kind = (e: Expected | typeof g) => (e.kind === 'message' ? (e.binary ? 'binary' : 'text') : e.kind);
    if (kind(g) !== kind(w)) mismatches.push(`event ${i}: got ${kind(g)}, want ${kind(w)}`);
    else if (!g.data.equals(w.data)) mismatches.push(`event ${i} (${kind(w)}): got ${show(g.data)}, want ${show(w.data)}`);
    else if (c.expectCompressed && g.kind === 'message' && w.data.length > 0 && !g.compressed) mismatches.push(`event ${i} was not compressed`);
  }
  t.same(mismatches.slice(0, 5), [], 'events match (first mismatches shown)');
  t.equal(out.close?.code, c.close, `close code (${out.peer.describe()})`);
  if (c.closeReason !== undefined) t.equal(out.close?.reason.toString('utf8'), c.closeReason, 'close reason');
  t.ok(out.peer.remoteClosed, 'the TCP connection was closed');
}

/** Registers one tap subtest per case of `cases`, for every role each case applies to. */
export function runTable(t: Test, cases: Case[], roles: Role[] = ['server', 'client']): void {
  const ids = new Set<string>();
  for (const c of cases) {
    if (ids.has(c.id)) throw new Error(`duplicate case id ${c.id}`);
    ids.add(c.id);
  }
  for (const role of roles) {
    t.test(`library as ${role}`, async (t) => {
      const testee = await startTestee(role);
      t.teardown(() => testee.close());
      for (const c of cases) {
        if (c.roles && !c.roles.includes(role)) continue;
        await t.test(`${c.id} ${c.title}`, (t) => checkCase(t, testee, c));
      }
    });
  }
}
