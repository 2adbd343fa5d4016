// Exactly once across servers, with no sleeping: two clients on two servers (workers, or
// processes joined by Redis) trade messages, then markers in a chain. A broker keeps each
// publisher's messages in order, so a marker sent only after the previous one arrived is handed
// out after every copy of what came before it: once a client has the marker it waits for, any
// duplicate of an earlier message (or its own message echoed back) would already be there.
//
//   A: "<a> 1"            B: "<b> 1"            (at the same time)
//   A: "<a> mark 1"       once A has B's message and B has A's
//   B: "<b> mark 2"       once B has mark 1
//   A: "<a> mark 3"       once A has mark 2
// A's log is complete up to mark 2, B's up to mark 3.

/** One client as the check sees it: what it sends and a log of the text it received, in order. */
export interface Endpoint {
  send(text: string): void;
  /** Every text message received so far (including ones the check did not send). */
  readonly received: string[];
  /** Resolves once `text` is in `received`. */
  until(text: string): Promise<void>;
}

/** A log of the text messages of anything with 'message' events (an rfcws or `ws` client). */
export function endpoint(ws: { send(text: string): void; on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): unknown }): Endpoint {
  const received: string[] = [];
  const waiters: { text: string; resolve: () => void }[] = [];
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString('utf8');
    received.push(text);
    for (const w of waiters.filter((w) => w.text === text)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  return {
    send: (text) => ws.send(text),
    received,
    until: (text) => (received.includes(text) ? Promise.resolve() : new Promise((resolve) => waiters.push({ text, resolve }))),
  };
}

export interface ExchangeResult {
  /** What A received from its first message up to mark 2, and B up to mark 3 (sorted: A's and B's first messages may cross). */
  a: string[];
  b: string[];
  /** What each of `others` (on A's server) received up to mark 2. */
  others: string[][];
  /** What they should have received: each message once. */
  expectedA: string[];
  expectedB: string[];
  expectedOthers: string[];
}

export interface ExchangeOptions {
  /** Messages are `${tag} ...`, so that a test can run the exchange more than once (default 'x'). */
  tag?: string;
  /** Publishes `text` for `e` (default: `e.send(text)`, for a server that publishes what its clients send). */
  send?: (e: Endpoint, text: string) => void;
  /** Whether a publisher's own client gets its message too (server.publish: yes; ws.publish: no). Default true. */
  senderGets?: boolean;
  /** Passive clients on A's server: their logs are complete up to mark 2, like A's. */
  others?: Endpoint[];
}

/** Runs the exchange between A and B (on two servers). */
export async function exchange(a: Endpoint, b: Endpoint, options: ExchangeOptions = {}): Promise<ExchangeResult> {
  const { tag = 'x', send = (e: Endpoint, text: string): void => e.send(text), senderGets = true, others = [] } = options;
  const m = (who: string, what: string): string => `${tag} ${who} ${what}`;
  const fromA = m('a', '1');
  const fromB = m('b', '1');
  const startA = a.received.length;
  const startB = b.received.length;
  const startOthers = others.map((o) => o.received.length);
  send(a, fromA);
  send(b, fromB);
  await Promise.all([a.until(fromB), b.until(fromA)]);
  send(a, m('a', 'mark 1'));
  await b.until(m('a', 'mark 1'));
  send(b, m('b', 'mark 2'));
  await a.until(m('b', 'mark 2'));
  send(a, m('a', 'mark 3'));
  await Promise.all([b.until(m('a', 'mark 3')), ...others.map((o) => o.until(m('b', 'mark 2')))]);
  const upTo = (log: string[], start: number, last: string): string[] => log.slice(start, log.indexOf(last, start) + 1).sort();
  const base = [fromA, fromB, m('a', 'mark 1'), m('b', 'mark 2')];
  const all = [...base, m('a', 'mark 3')];
  const mine = (who: string) => (text: string): boolean => senderGets || !text.startsWith(`${tag} ${who} `);
  return {
    a: upTo(a.received, startA, m('b', 'mark 2')),
    b: upTo(b.received, startB, m('a', 'mark 3')),
    others: others.map((o, i) => upTo(o.received, startOthers[i]!, m('b', 'mark 2'))),
    expectedA: base.filter(mine('a')).sort(),
    expectedB: all.filter(mine('b')).sort(),
    expectedOthers: [...base].sort(),
  };
}
