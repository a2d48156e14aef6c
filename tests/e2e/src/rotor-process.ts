// `rotor` as a real child process for end-to-end tests: spawned the way a user runs it, its
// stdout kept as text and its stderr parsed as the core logger's JSON lines. `startRotor` resolves
// once the "rotor started" line gives the ports; the process is killed when the test ends, whatever
// happened (SIGKILL to its whole process group, so `pnpm start` children go too).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deferred, waitFor, withDeadline } from '@rotor/testkit';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(REPO_ROOT, 'services/rotor/src/main.ts');
const TSX = import.meta.resolve('tsx');

/** A deadline long enough for a cold tsx start on a loaded 2-core machine. */
export const START_TIMEOUT_MS = 60_000;

interface TestContext {
  after(fn: () => void | Promise<void>): void;
}

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface StartOptions {
  /** Arguments after `rotor`, e.g. ['start', '--port', '0']. */
  args: string[];
  /** The whole environment besides PATH and HOME (no ROTOR_* unless given here). */
  env?: Record<string, string>;
  cwd?: string;
  /** Run `pnpm <args>` from the repository root instead of node on main.ts directly. */
  viaPnpm?: boolean;
}

export class RotorProcess {
  stdout = '';
  stderr = '';
  readonly logs: LogLine[] = [];
  httpPort = 0;
  grpcPort: number | null = null;
  /** The server's own pid (from its log): under pnpm it is a grandchild in another process group. */
  serverPid: number | null = null;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;
  #partial = '';

  constructor(readonly child: ChildProcess) {
    const done = deferred<void>();
    this.exited = done.promise;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.#partial += d;
      let nl: number;
      while ((nl = this.#partial.indexOf('\n')) >= 0) {
        const line = this.#partial.slice(0, nl);
        this.#partial = this.#partial.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch (err) {
          this.logs.push({ level: 'unparsed', msg: `${String(err)}: ${line}` });
        }
      }
    });
    child.on('exit', (code, signal) => {
      this.exitCode = code;
      this.exitSignal = signal;
      done.resolve();
    });
  }

  get running(): boolean {
    return this.exitCode === null && this.exitSignal === null;
  }

  get httpUrl(): string {
    return `http://localhost:${this.httpPort}`;
  }

  get wsUrl(): string {
    return `ws://localhost:${this.httpPort}/connection/websocket`;
  }

  /** The first log line with this message (waits for it). */
  async logLine(msg: string, timeoutMs = 10_000): Promise<LogLine> {
    await waitFor(() => this.logs.some((l) => l.msg === msg) || !this.running, { timeoutMs, what: `log line "${msg}"` });
    const line = this.logs.find((l) => l.msg === msg);
    if (line === undefined) throw new Error(`rotor exited (${this.exitCode ?? this.exitSignal}) before logging "${msg}"\n${this.stderr}`);
    return line;
  }

  /** Sends a signal to the server and waits for the spawned process to exit; returns its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | null> {
    if (this.running) {
      if (this.serverPid !== null) signal_(this.serverPid, signal);
      else if (this.child.pid !== undefined) signal_(-this.child.pid, signal);
    }
    await withDeadline(this.exited, timeoutMs, `rotor to exit after ${signal}`);
    return this.exitCode;
  }

  /** SIGKILL to everything this started: the spawned group and the server (pnpm runs it in a group of its own). */
  async kill(): Promise<void> {
    // Only while the spawned process lives: until it has exited (and reaped the server), the
    // server's pid cannot belong to anything else.
    if (!this.running) return;
    if (this.serverPid !== null) signal_(this.serverPid, 'SIGKILL');
    if (this.child.pid !== undefined) signal_(-this.child.pid, 'SIGKILL');
    await withDeadline(this.exited, 10_000, 'killed rotor to exit');
  }
}

/** process.kill that ignores a process already gone. */
function signal_(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Spawns rotor without waiting for anything (for commands that exit on their own). */
export function spawnRotor(t: TestContext, opts: StartOptions): RotorProcess {
  const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? tmpdir(), ...opts.env };
  const [cmd, argv] = opts.viaPnpm ? ['pnpm', opts.args] : [process.execPath, ['--import', TSX, MAIN, ...opts.args]];
  // detached: its own process group, so a kill reaches pnpm's children too.
  const child = spawn(cmd, argv, { cwd: opts.cwd ?? REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const proc = new RotorProcess(child);
  t.after(() => proc.kill());
  return proc;
}

/** Spawns rotor and waits for its "rotor started" line; fails with its output when it exits first. */
export async function startRotor(t: TestContext, opts: StartOptions): Promise<RotorProcess> {
  const proc = spawnRotor(t, opts);
  const started = await proc.logLine('rotor started', START_TIMEOUT_MS);
  proc.httpPort = started['httpPort'] as number;
  proc.grpcPort = (started['grpcPort'] as number | null) ?? null;
  proc.serverPid = started['pid'] as number;
  // The summary is written to stdout right after the log line.
  await waitFor(() => proc.stdout.includes('Ctrl-C stops the server') || !proc.running, { timeoutMs: 10_000, what: 'the start summary on stdout' });
  return proc;
}

/** A temporary directory removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'rotor-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What the development banner prints, parsed. */
export interface DevBanner {
  apiKey: string;
  hmacSecret: string;
  token: string;
  curl: { header: string; body: string; url: string };
}

export function parseDevBanner(stdout: string): DevBanner {
  const field = (re: RegExp, what: string): string => {
    const m = re.exec(stdout);
    if (m?.[1] === undefined) throw new Error(`banner has no ${what}:\n${stdout}`);
    return m[1];
  };
  const curl = /^\s+curl -H '([^']+)' -d '([^']+)' (\S+)$/m.exec(stdout);
  if (curl === null) throw new Error(`banner has no curl command:\n${stdout}`);
  return {
    apiKey: field(/^\s+API key\s+(\S+)$/m, 'API key'),
    hmacSecret: field(/^\s+HMAC secret\s+(\S+)/m, 'HMAC secret'),
    token: field(/^\s+(eyJ[\w-]+\.[\w-]+\.[\w-]+)$/m, 'sample token'),
    curl: { header: curl[1] as string, body: curl[2] as string, url: curl[3] as string },
  };
}
