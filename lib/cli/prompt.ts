// The interactive line editor of `rfcws connect` on a terminal: typed lines and received
// messages stay apart. Output is printed above the prompt, which readline then redraws with
// whatever was being typed (wscat's approach).
import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';

export class Prompt {
  readonly rl: Interface;
  private closed = false;

  constructor(input: NodeJS.ReadStream, private readonly output: NodeJS.WriteStream) {
    this.rl = createInterface({ input, output, terminal: true, prompt: '> ', historySize: 1000 });
    this.rl.on('close', () => (this.closed = true));
  }

  /** Prints `line` on its own line above the prompt, then redraws the prompt and the typed text. */
  print(line: string, stream: NodeJS.WriteStream = this.output): void {
    if (this.closed) {
      stream.write(`${line}\n`);
      return;
    }
    clearLine(this.output, 0);
    cursorTo(this.output, 0);
    stream.write(`${line}\n`);
    this.rl.prompt(true);
  }

  show(): void {
    if (!this.closed) this.rl.prompt();
  }

  close(): void {
    if (this.closed) return;
    // Leave the cursor on a fresh line, without the prompt.
    clearLine(this.output, 0);
    cursorTo(this.output, 0);
    this.rl.close();
  }
}
