// The slash commands of the interactive prompt (lib/cli/prompt.ts): /ping, /close, /binary, /help.
import type { WebSocket } from '../websocket.js';
import { readFileFor } from './args.js';

const PROMPT_HELP = [
  '/ping [data]              send a ping',
  '/close [code [reason]]    close the connection (default 1000)',
  '/binary <hex | @file>     send a binary message',
  '/help                     this list',
  '//text                    send "/text"',
  'Ctrl-D or Ctrl-C          close with 1000 (twice: quit at once)',
];

/** "0a ff 00" or "0aff00" -> bytes; null when it is not whole bytes of hex. */
export function parseHex(text: string): Buffer | null {
  const digits = text.replace(/\s+/g, '');
  return digits.length > 0 && /^(?:[0-9a-fA-F]{2})+$/.test(digits) ? Buffer.from(digits, 'hex') : null;
}

/**
 * One line typed at the prompt: a slash command, or a text message (an empty line sends nothing).
 * `info`/`problem` print above the prompt; the payload of each /ping goes on `pingsOwed`.
 */
export function runLine(ws: WebSocket, line: string, info: (s: string) => void, problem: (s: string) => void, pingsOwed: string[]): void {
  if (line === '') return;
  if (!line.startsWith('/') || line.startsWith('//')) {
    ws.send(line.startsWith('//') ? line.slice(1) : line);
    return;
  }
  const space = line.indexOf(' ');
  const name = space === -1 ? line : line.slice(0, space);
  const rest = space === -1 ? '' : line.slice(space + 1).trim();
  try {
    switch (name) {
      case '/help':
        for (const l of PROMPT_HELP) info(l);
        return;
      case '/ping':
        ws.ping(rest);
        pingsOwed.push(rest);
        return;
      case '/close': {
        if (rest === '') return void ws.close(1000);
        const [codeText = '', ...words] = rest.split(' ');
        const code = /^\d+$/.test(codeText) ? Number(codeText) : NaN;
        if (Number.isNaN(code)) return problem(`/close takes a close code first, e.g. /close 1000 bye (got "${codeText}")`);
        ws.close(code, words.join(' '));
        return;
      }
      case '/binary': {
        let data: Buffer | null;
        if (rest.startsWith('@')) data = readFileFor('/binary', rest.slice(1));
        else data = parseHex(rest);
        if (data === null) return problem('/binary takes hex digits (e.g. /binary 01 02 ff) or @file');
        ws.send(data, { binary: true });
        return;
      }
      default:
        problem(`unknown command ${name} (/help lists them; //text sends "/text")`);
    }
  } catch (err) {
    problem((err as Error).message);
  }
}
