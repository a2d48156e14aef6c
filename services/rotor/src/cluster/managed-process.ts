// One child process of the local cluster: spawned in its own process group (so a Ctrl-C on the
// terminal reaches only the supervisor, which stops the children in order), its output split
// into lines for the log sink, its "rotor started" log line kept (ports, pid), its exit awaited.
// Node children get a stdin pipe: they stop themselves when it closes (see child-main.ts), so
// killing the supervisor outright does not leave them behind.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  /** Give the child a stdin pipe that closes when the supervisor dies. */
  stdinGuard: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ManagedProcess {
  private child: ChildProcess | null = null;
  private exitPromise: Promise<ExitInfo> = Promise.resolve({ code: 0, signal: null });
  /** Fields of the child's "rotor started" log line (null until it came). */
  started: Record<string, unknown> | null = null;
  /** Set when the supervisor asked it to stop (an exit then is expected). */
  stopping = false;
  restarts = 0;
  readonly restartTimes: number[] = [];

  constructor(
    public spec: ProcessSpec,
    private readonly onLine: (name: string, line: string) => void,
    private readonly onExit: (p: ManagedProcess, info: ExitInfo) => void,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null;
  }

  get exited(): Promise<ExitInfo> {
    return this.exitPromise;
  }

  start(): void {
    if (this.child !== null) throw new Error(`${this.name} is already running`);
    this.started = null;
    this.stopping = false;
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: this.spec.env,
      detached: true,
      stdio: [this.spec.stdinGuard ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exitPromise = new Promise<ExitInfo>((resolve) => {
      let done = false;
      const finish = (info: ExitInfo): void => {
        if (done) return;
        done = true;
        if (this.child === child) this.child = null;
        resolve(info);
        this.onExit(this, info);
      };
      child.once('exit', (code, signal) => finish({ code, signal }));
      child.once('error', (err) => {
        this.onLine(this.name, `cannot start ${this.spec.command}: ${err.message}`);
        finish({ code: 127, signal: null });
      });
    });
    // The pipe stays open (never written); an EPIPE after the child exited is expected.
    child.stdin?.on('error', () => undefined);
    this.follow(child.stdout, false);
    this.follow(child.stderr, true);
  }

  private follow(stream: NodeJS.ReadableStream | null, parseLogs: boolean): void {
    if (stream === null) return;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      partial += chunk;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        if (parseLogs && this.started === null && line.includes('"msg":"rotor started"')) this.noteStarted(line);
        this.onLine(this.name, line);
      }
    });
    stream.on('end', () => {
      if (partial !== '') this.onLine(this.name, partial);
      partial = '';
    });
  }

  private noteStarted(line: string): void {
    try {
      this.started = JSON.parse(line) as Record<string, unknown>;
    } catch (err) {
      this.onLine(this.name, `(unreadable start line: ${(err as Error).message})`);
    }
  }

  /** Sends a signal to the child (not its group: a child owns its own shutdown). */
  signal(sig: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  /** Asks it to stop with `sig`; SIGKILL after `timeoutMs`. Resolves with how it exited. */
  async stop(sig: NodeJS.Signals, timeoutMs: number): Promise<ExitInfo> {
    if (this.child === null) return this.exitPromise;
    this.stopping = true;
    this.signal(sig);
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    try {
      return await this.exitPromise;
    } finally {
      clearTimeout(timer);
    }
  }
}
