// Shared pieces of the resume tests: a resume server on 127.0.0.1 and a raw client offering a session.
import type t from 'tap';
import type { ResumableSession } from '../../lib/server/resume.js';
import { WebSocketServer, type ServerOptions } from '../../lib/server/server.js';
import { OP } from '../helpers/frames.js';
import { parseHeaders } from '../helpers/http.js';
import { RawPeer } from '../helpers/raw-peer.js';

export type Test = Parameters<Parameters<typeof t.test>[0]>[0];

/** A server with `resume: true` (or `options.resume`); `sessions` in order of creation. */
export async function resumeServer(t: Test, options: ServerOptions = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', resume: true, keepAliveInterval: 0, ...options });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  const sessions: ResumableSession[] = [];
  wss.on('session', (s) => sessions.push(s));
  return { wss, port, url: `ws://127.0.0.1:${port}/`, sessions };
}

function headersOf(head: string): Record<string, string> {
  return parseHeaders(head.split('\r\n').slice(1).filter((l) => l !== ''));
}

/** A raw client offering `value`; the answer's fields. */
export async function offer(
  t: Test,
  port: number,
  value: string,
  headers: Record<string, string> = {},
): Promise<{ peer: RawPeer; id: string; received: number; resumed: boolean }> {
  const peer = await RawPeer.upgrade(port, { headers: { ...headers, 'rfcws-resume': value } });
  t.teardown(() => peer.destroy());
  const answer = headersOf(peer.head)['rfcws-resume'] ?? '';
  const m = /^id=([A-Za-z0-9_-]{22}); received=(\d+); resumed=([01])$/.exec(answer);
  if (m === null) throw new Error(`no resume answer in ${peer.head}`);
  return { peer, id: m[1]!, received: Number(m[2]), resumed: m[3] === '1' };
}

/** An acknowledgement pong of `n` messages. */
export const ack = (n: number) => ({ opcode: OP.PONG, payload: `rfcws-ack:${n}` });
