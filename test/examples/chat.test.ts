// examples/chat in a real browser: the example runs as its own process, headless
// Chromium opens its page in two tabs, a line typed in one appears in the other.
import t from 'tap';
import { connect, HandshakeError } from '../../lib/index.js';
import { Browser, findChromium, NO_CHROMIUM } from '../helpers/chromium.js';
import { startExample } from './start.js';

const chromium = findChromium();

t.test('the chat page broadcasts a line typed in one tab to the other', { skip: chromium === undefined ? NO_CHROMIUM : false }, async (t) => {
  const { match, output } = await startExample(t, 'chat', /Chat on (http:\/\/\S+?)\/ /);
  const origin = match[1]!;

  const browser = await Browser.launch(chromium!);
  t.teardown(() => browser.close());

  const open = "document.body?.dataset.state === 'open'";
  const lines = "[...document.querySelectorAll('#log li')].map((li) => li.textContent)";
  // One tab after the other, so that the first is "guest 1" and the second "guest 2".
  const alice = await browser.newPage(`${origin}/`);
  await alice.waitFor(open);
  const bob = await browser.newPage(`${origin}/`);
  await bob.waitFor(open);
  await alice.waitFor(`${lines}.includes('guest 2 joined')`);

  // Typed into the page's input and sent with Enter, through the page's own submit handler.
  await alice.evaluate("document.getElementById('text').focus()");
  await alice.type('hello from the first tab');
  await alice.pressEnter();
  await bob.waitFor(`${lines}.includes('guest 1: hello from the first tab')`);
  // Every client gets the broadcast, the sender too; the input was cleared on submit.
  await alice.waitFor(`${lines}.includes('guest 1: hello from the first tab')`);
  t.equal(await alice.evaluate("document.getElementById('text').value"), '');

  await bob.evaluate("document.getElementById('text').focus()");
  await bob.type('and back');
  await bob.pressEnter();
  await alice.waitFor(`${lines}.includes('guest 2: and back')`);
  // The sender's own copy of the broadcast may arrive after the other tab's.
  await bob.waitFor(`${lines}.includes('guest 2: and back')`);

  t.same(await bob.evaluate(lines), ['guest 2 joined', 'guest 1: hello from the first tab', 'guest 2: and back'], 'the second tab saw the conversation in order');
  t.same(
    await alice.evaluate(lines),
    ['guest 1 joined', 'guest 2 joined', 'guest 1: hello from the first tab', 'guest 2: and back'],
    'the first tab saw everything since it joined',
  );
  t.ok(output().includes(`${origin}/`), 'the example printed the URL to open');
});

t.test('the chat endpoint refuses other origins with 403 (the page alone may connect)', async (t) => {
  const { match } = await startExample(t, 'chat', /Chat on (http:\/\/\S+?)\/ /);
  const origin = match[1]!;
  const url = `${origin.replace('http', 'ws')}/ws`;

  const err = await connect(url, { origin: 'https://evil.example' }).then(
    () => t.fail('a foreign origin was admitted'),
    (e: unknown) => e,
  );
  t.type(err, HandshakeError);
  t.equal((err as HandshakeError).status, 403);
  // Without Origin too: a list policy fails closed.
  t.equal(((await connect(url).catch((e: unknown) => e)) as HandshakeError).status, 403);

  const ws = await connect(url, { origin, keepAliveInterval: 0 });
  const messages: string[] = [];
  ws.on('message', (data: Buffer) => messages.push(data.toString()));
  ws.send('from node');
  await new Promise<void>((resolve) => ws.on('message', (data: Buffer) => data.toString() === 'guest 1: from node' && resolve()));
  t.same(messages, ['guest 1 joined', 'guest 1: from node']);
  ws.close(1000);
  await new Promise((r) => ws.once('close', r));
});

t.test('the chat keeps rooms apart: a line reaches its own room only', async (t) => {
  const { match } = await startExample(t, 'chat', /Chat on (http:\/\/\S+?)\/ /);
  const origin = match[1]!;
  const url = (room: string) => `${origin.replace('http', 'ws')}/ws?room=${room}`;
  const join = async (room: string) => {
    const ws = await connect(url(room), { origin, keepAliveInterval: 0 });
    const lines: string[] = [];
    ws.on('message', (data: Buffer) => lines.push(data.toString()));
    return { ws, lines };
  };
  const until = (lines: string[], line: string) => new Promise<void>((resolve) => {
    const check = () => (lines.includes(line) ? resolve() : setTimeout(check, 10));
    check();
  });
  const a = await join('games');
  await until(a.lines, 'guest 1 joined');
  const b = await join('games');
  await until(b.lines, 'guest 2 joined');
  const c = await join('work');
  await until(c.lines, 'guest 3 joined');
  a.ws.send('anyone for chess?');
  c.ws.send('meeting at 3');
  await until(b.lines, 'guest 1: anyone for chess?');
  await until(c.lines, 'guest 3: meeting at 3');
  await until(a.lines, 'guest 1: anyone for chess?');
  b.ws.close(1000);
  await until(a.lines, 'guest 2 left');
  t.same(a.lines, ['guest 1 joined', 'guest 2 joined', 'guest 1: anyone for chess?', 'guest 2 left']);
  t.same(b.lines, ['guest 2 joined', 'guest 1: anyone for chess?']);
  t.same(c.lines, ['guest 3 joined', 'guest 3: meeting at 3'], 'nothing from the games room');
  for (const { ws } of [a, c]) ws.close(1000);
  await Promise.all([a, c].map(({ ws }) => new Promise((r) => ws.once('close', r))));
});
