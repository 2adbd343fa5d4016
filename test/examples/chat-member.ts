// A member of examples/chat's room, for the tests that run the chat on several processes
// (chat-workers.test.ts, chat-redis.test.ts): its log holds what others typed without the
// `guest N@pid: ` prefix, so that test/helpers/exactly-once.ts can check it.
import { once } from 'node:events';
import { connect, type WebSocket } from '../../lib/index.js';
import { endpoint, type Endpoint } from '../helpers/exactly-once.js';

export interface Member {
  ws: WebSocket;
  e: Endpoint;
  /** The first line it got: its own `guest N@pid joined`. */
  joined: string;
  /** The pid in `joined`: the chat process that holds this member. */
  pid: string | undefined;
}

export async function member(t: { teardown(fn: () => unknown): void }, url: string, origin: string): Promise<Member> {
  const ws = await connect(url, { origin, keepAliveInterval: 0 });
  t.teardown(() => ws.terminate());
  const first = once(ws, 'message');
  const e = endpoint({
    send: (text) => ws.send(text),
    on: (_event, listener) => ws.on('message', (data: Buffer, isBinary: boolean) => listener(Buffer.from(String(data).replace(/^guest \S+: /, '')), isBinary)),
  });
  // Its own "guest N@pid joined" comes first: it is published right after it subscribed.
  const joined = String((await first)[0]);
  return { ws, e, joined, pid: /^guest \d+@(\d+) joined$/.exec(joined)?.[1] };
}
