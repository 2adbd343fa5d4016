// Shared by the CLI tests: run the built CLI as a child process (with pipes, or inside a
// pseudo-terminal through Python's pty module) and wait for what it prints.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type t from 'tap';

export type Test = Parameters<Parameters<typeof t.test>[0]>[0];

export const CLI = fileURLToPath(new URL('../../lib/cli.js', import.meta.url));

/** A child and everything it printed so far (stdout and stderr kept apart). */
export interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  /** Resolves once stdout (or stderr) matches `re`; rejects if the child exits first. */
  waitOut: (re: RegExp) => Promise<RegExpMatchArray>;
  waitErr: (re: RegExp) => Promise<RegExpMatchArray>;
  /** Resolves with the exit code (128 + n for a signal). */
  exited: Promise<number>;
}

// ANSI colour and cursor sequences, so assertions read the text a person sees.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
export const plain = (s: string): string => s.replace(ANSI, '');

/** `bytes`: stdout kept as latin1 (one char per byte) instead of decoded as UTF-8. */
function track(child: ChildProcess, bytes = false): Run {
  let out = '';
  let err = '';
  const waiters: { stream: 'out' | 'err'; re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      const m = plain(w.stream === 'out' ? out : err).match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout?.setEncoding(bytes ? 'latin1' : 'utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (c: string) => {
    out += c;
    check();
  });
  child.stderr?.on('data', (c: string) => {
    err += c;
    check();
  });
  const exited = new Promise<number>((resolve) => {
    child.once('close', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15)));
  });
  const wait = (stream: 'out' | 'err', re: RegExp): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      waiters.push({ stream, re, resolve });
      check();
      void exited.then((code) => reject(new Error(`exited with ${code} before printing ${re}\nstdout: ${out}\nstderr: ${err}`)));
    });
  return { child, out: () => out, err: () => err, waitOut: (re) => wait('out', re), waitErr: (re) => wait('err', re), exited };
}

/** `rfcws ...args` with stdin, stdout and stderr as pipes; killed at teardown if still running. */
export function run(t: Test, args: string[], options: { bytes?: boolean } = {}): Run {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return track(child, options.bytes);
}

// The child gets a 24x80 pseudo-terminal as stdin, stdout and stderr; this process relays the
// test's pipe to the terminal and the terminal's output to its stdout, and exits with the
// child's status. Its stdin reaching EOF does not end the terminal session.
const PTY_RELAY = `
import os, pty, sys, select, fcntl, termios, struct
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 80, 0, 0))
watch = [fd, 0]
while True:
    r, _, _ = select.select(watch, [], [])
    if fd in r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        os.write(1, data)
    if 0 in r:
        data = os.read(0, 65536)
        if data:
            os.write(fd, data)
        else:
            watch = [fd]
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
`;

/** For `t.test(name, { skip: PTY_SKIP }, ...)`: false, or why the terminal tests cannot run. */
export const PTY_SKIP: string | false =
  spawnSync('python3', ['-c', 'import pty, termios'], { stdio: 'ignore' }).status === 0
    ? false
    : 'python3 with the pty module is not available: the terminal tests need it';

/** `rfcws ...args` inside a pseudo-terminal; `type()` sends keystrokes, the output is the terminal's. */
export function runInTerminal(t: Test, args: string[]): Run & { type: (keys: string) => void; waitScreen: (re: RegExp) => Promise<RegExpMatchArray> } {
  const child = spawn('python3', ['-c', PTY_RELAY, process.execPath, CLI, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, TERM: 'xterm', NO_COLOR: '' },
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const r = track(child);
  // The screen as rendered, lines joined with \n: prompt redraws leave no trace in it.
  const waitScreen = async (re: RegExp): Promise<RegExpMatchArray> => {
    for (;;) {
      const m = screen(r.out()).join('\n').match(re);
      if (m) return m;
      await Promise.race([once(child.stdout!, 'data'), r.exited.then(() => { throw new Error(`exited before the screen showed ${re}:\n${screen(r.out()).join('\n')}`); })]);
    }
  };
  return { ...r, type: (keys) => void child.stdin!.write(keys), waitScreen };
}

/** A temporary directory removed at teardown. */
export function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'rfcws-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl in `dir`. */
export function selfSigned(dir: string, name = 'server', san = 'IP:127.0.0.1,DNS:localhost'): { cert: string; key: string } {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
      '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`],
    { stdio: 'ignore' },
  );
  if (r.status !== 0) throw new Error(`openssl req failed with ${r.status}`);
  return { cert, key };
}

/** For `t.test(name, { skip: OPENSSL_SKIP }, ...)`: false, or why the TLS tests cannot run. */
export const OPENSSL_SKIP: string | false =
  spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0 ? false : 'openssl is not available: the TLS tests generate their certificates with it';

/** Starts `rfcws serve --port 0 ...args`; resolves with its URL once it listens. */
export async function serveCli(t: Test, args: string[]): Promise<Run & { url: string }> {
  const r = run(t, ['serve', '--port', '0', '--keepalive', '0', ...args]);
  const [, url] = await r.waitOut(/listening on (wss?:\/\/\S+)[^\n]*\nTry it: .*\n/);
  return { ...r, url: url! };
}

/** SIGTERM, then the exit code. */
export async function stop(r: Run): Promise<number> {
  if (r.child.exitCode === null) r.child.kill('SIGTERM');
  return r.exited;
}

export function writeFile(dir: string, name: string, data: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

export { once };

/**
 * What a terminal shows after `raw`: the lines of the screen, for the few sequences readline
 * and the CLI write (CR, LF, CSI n G, CSI 2K, CSI K, CSI 0J; colours ignored).
 */
export function screen(raw: string): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === '\x1b' && raw[i + 1] === '[') {
      const m = /^\x1b\[([0-9;?]*)([A-Za-z])/.exec(raw.slice(i));
      if (!m) continue;
      i += m[0].length - 1;
      const n = Number(m[1]) || 0;
      if (m[2] === 'G') col = Math.max(0, (n || 1) - 1);
      else if (m[2] === 'K') rows[row] = n === 2 ? [] : rows[row]!.slice(0, col);
      else if (m[2] === 'J') {
        rows[row] = rows[row]!.slice(0, col);
        rows.length = row + 1;
      }
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      rows[row] ??= [];
    } else {
      const line = rows[row]!;
      while (line.length < col) line.push(' ');
      line[col++] = ch;
    }
  }
  return rows.map((r) => r.join(''));
}
