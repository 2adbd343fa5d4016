// rfcws connect on a terminal (a pseudo-terminal made by Python's pty module): the prompt,
// received messages printed apart from what is being typed, slash commands, Ctrl-C and Ctrl-D.
import t from 'tap';
import { WebSocketServer } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';
import { plain, PTY_SKIP, runInTerminal, screen, tempDir, writeFile, type Test } from './helpers.js';

interface Peer {
  url: string;
  /** The server side of the connection, once there. */
  ws: () => Promise<WebSocket>;
  messages: string[];
  pings: string[];
  close: Promise<[number, string]>;
}

async function echoServer(t: Test): Promise<Peer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', keepAliveInterval: 0 });
  let closed!: (v: [number, string]) => void;
  let opened!: (ws: WebSocket) => void;
  const open = new Promise<WebSocket>((r) => (opened = r));
  const peer: Peer = { url: '', ws: () => open, messages: [], pings: [], close: new Promise((r) => (closed = r)) };
  wss.on('connection', (ws) => {
    opened(ws);
    ws.on('message', (data, isBinary) => {
      peer.messages.push(isBinary ? `binary:${data.toString('hex')}` : data.toString());
      ws.send(isBinary ? `got ${data.length} bytes` : `echo:${data}`);
    });
    ws.on('ping', (data) => peer.pings.push(data.toString()));
    ws.on('close', (code, reason) => closed([code, reason]));
  });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  peer.url = `ws://127.0.0.1:${port}/`;
  return peer;
}

const lastLine = (raw: string): string => screen(raw).at(-1)!;

t.test('terminal', { skip: PTY_SKIP }, async (t) => {
  t.test('the prompt; a received message is printed on its own line and the typed text redrawn', async (t) => {
    const peer = await echoServer(t);
    const term = runInTerminal(t, ['connect', peer.url]);
    await term.waitScreen(/connected to ws:\/\/127\.0\.0\.1:\d+\/; type \/help for commands/);
    await term.waitScreen(/\n> $/);
    term.type('hello\r');
    await term.waitScreen(/< echo:hello\n> $/);
    let lines = screen(term.out());
    t.ok(lines.includes('> hello'), 'the typed line stays as typed');
    t.ok(lines.includes('< echo:hello'), 'the reply on its own line, marked');
    t.equal(lines.at(-1), '> ', 'a fresh prompt below');

    // Half a line typed when a message arrives: the message goes above, the half line is kept.
    term.type('half');
    await term.waitScreen(/> half$/);
    (await peer.ws()).send('pushed');
    await term.waitScreen(/< pushed\n> half$/);
    lines = screen(term.out());
    t.ok(lines.includes('< pushed'), 'the pushed message on a line of its own');
    t.equal(lines.at(-1), '> half', 'the prompt and the typed text redrawn under it');
    term.type(' done\r');
    await term.waitScreen(/< echo:half done/);
    t.same(peer.messages, ['hello', 'half done']);
    t.match(term.out(), /\x1b\[36m<\x1b\[0m echo:hello/, 'the marker is coloured on a terminal');

    term.type('\x04'); // Ctrl-D
    t.equal(await term.exited, 0, 'Ctrl-D closes and exits 0');
    t.same(await peer.close, [1000, '']);
  });

  t.test('slash commands: /ping, /binary hex and @file, //text, /help, mistakes, /close 4000 bye', async (t) => {
    const peer = await echoServer(t);
    const file = writeFile(tempDir(t), 'blob.bin', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00]));
    const term = runInTerminal(t, ['connect', peer.url]);
    await term.waitScreen(/\n> $/);

    term.type('/ping abc\r');
    await term.waitScreen(/< pong: abc/);
    t.same(peer.pings, ['abc'], 'the server got the ping with its data');
    term.type('/ping\r');
    await term.waitScreen(/< pong\n/);

    term.type('/binary 01 02 ff\r');
    await term.waitScreen(/< got 3 bytes/);
    term.type(`/binary @${file}\r`);
    await term.waitScreen(/< got 5 bytes/);
    t.same(peer.messages.slice(0, 2), ['binary:0102ff', 'binary:deadbeef00']);

    term.type('//not a command\r');
    await term.waitScreen(/< echo:\/not a command/);

    term.type('/help\r');
    await term.waitScreen(/\/close \[code \[reason\]\]/);
    term.type('/binary zz\r');
    await term.waitScreen(/\/binary takes hex digits/);
    term.type('/close 999\r');
    await term.waitScreen(/close code/i);
    term.type('/frob\r');
    await term.waitScreen(/unknown command \/frob[^\n]*\n> $/);
    t.equal(peer.messages.length, 3, 'no mistake sent anything');
    t.equal(lastLine(term.out()), '> ', 'still at the prompt');

    term.type('/close 4000 bye\r');
    t.same(await peer.close, [4000, 'bye'], 'the server sees 4000 "bye"');
    t.equal(await term.exited, 0);
    t.match(plain(term.out()), /closed: code=4000 clean=true/, 'the server answered with 4000');
  });

  t.test('Ctrl-C closes with 1000', async (t) => {
    const peer = await echoServer(t);
    const term = runInTerminal(t, ['connect', peer.url]);
    await term.waitScreen(/\n> $/);
    term.type('typed but not sent\x03');
    t.same(await peer.close, [1000, '']);
    t.equal(await term.exited, 0);
    t.same(peer.messages, [], 'the unfinished line was not sent');
    t.match(term.out(), /closing with 1000 \(Ctrl-C again to quit at once\)/);
  });

  t.test('a second Ctrl-C while the close is pending exits at once', async (t) => {
    const peer = await echoServer(t);
    const term = runInTerminal(t, ['connect', peer.url]);
    await term.waitScreen(/\n> $/);
    // The server stops reading, so the client's close frame stays unanswered.
    (await peer.ws()).pause();
    term.type('\x03');
    await term.waitScreen(/closing with 1000/);
    term.type('\x03');
    t.equal(await term.exited, 130);
  });
});
