// A real nats-server for integration tests: started on a free port (the server picks it, `-p -1`,
// and writes it to a ports file, so no test ever guesses a port), with JetStream in a private temp
// directory when asked. The handle is disposable (`await using`): disposal kills the process and
// removes the directory even when the test failed.
//
// restart() starts a new process on the same port and the same JetStream store directory, which is
// what restart tests need (clients reconnect to the same URL and the streams come back).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Debian installs the binary in /usr/sbin; TEAM.md and other distributions say /usr/bin.
const NATS_SERVER_BIN =
  process.env.NATS_SERVER_BIN ??
  ['/usr/bin/nats-server', '/usr/sbin/nats-server', '/usr/local/bin/nats-server'].find((p) => existsSync(p)) ??
  'nats-server';
const START_DEADLINE_MS = 15_000;
const STOP_DEADLINE_MS = 10_000;
const POLL_MS = 20;

export interface NatsServerOptions {
  /** Enables JetStream with a store directory inside the handle's temp dir. */
  jetstream?: boolean;
  /** Extra command-line arguments (e.g. `['-DV']` when debugging). */
  args?: string[];
}

export interface NatsServerHandle extends AsyncDisposable {
  /** `nats://127.0.0.1:<port>` — stable across restart(). */
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory ('' without JetStream). */
  readonly storeDir: string;
  /** Whether a server process is currently running. */
  readonly running: boolean;
  /** Graceful stop (SIGTERM, then SIGKILL after a deadline). */
  stop(): Promise<void>;
  /** SIGKILL: the process gets no chance to flush anything. */
  kill(): Promise<void>;
  /** Stops a running server (gracefully) and starts a new one on the same port and store dir. */
  restart(): Promise<void>;
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'rotor-nats-'));
  const server = new NatsServer(dir, opts);
  try {
    await server.start(-1);
  } catch (err) {
    await server.dispose();
    throw err;
  }
  return server;
}

class NatsServer implements NatsServerHandle {
  private proc: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private assignedPort = 0;
  private stderrTail = '';
  readonly storeDir: string;

  constructor(
    private readonly dir: string,
    private readonly opts: NatsServerOptions,
  ) {
    this.storeDir = opts.jetstream ? join(dir, 'js') : '';
  }

  get port(): number {
    return this.assignedPort;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.assignedPort}`;
  }

  get running(): boolean {
    return this.proc !== null;
  }

  async start(port: number): Promise<void> {
    const portsDir = join(this.dir, `ports-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    const args = ['-a', '127.0.0.1', '-p', String(port), '--ports_file_dir', portsDir];
    if (this.opts.jetstream) args.push('-js', '-sd', this.storeDir);
    args.push(...(this.opts.args ?? []));
    await mkdir(portsDir, { recursive: true });

    const proc = spawn(NATS_SERVER_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    this.stderrTail = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    this.exited = new Promise((resolve) => {
      proc.once('exit', () => {
        if (this.proc === proc) this.proc = null;
        resolve();
      });
      proc.once('error', (err) => {
        this.stderrTail += `\nspawn error: ${err.message}`;
        if (this.proc === proc) this.proc = null;
        resolve();
      });
    });

    const deadline = Date.now() + START_DEADLINE_MS;
    if (port === -1) {
      this.assignedPort = await this.readPortsFile(portsDir, proc, deadline);
    } else {
      this.assignedPort = port;
    }
    await this.waitAccepting(proc, deadline);
  }

  private async readPortsFile(portsDir: string, proc: ChildProcess, deadline: number): Promise<number> {
    for (;;) {
      this.assertAlive(proc);
      const files = await readdir(portsDir);
      const file = files.find((f) => f.endsWith('.ports'));
      if (file !== undefined) {
        const text = await readFile(join(portsDir, file), 'utf8');
        // The server writes the file in one go, but guard against reading a partial write.
        try {
          const parsed = JSON.parse(text) as { nats?: string[] };
          const first = parsed.nats?.[0];
          if (first !== undefined) return Number(new URL(first).port);
        } catch (err) {
          if (!(err instanceof SyntaxError)) throw err;
        }
      }
      if (Date.now() > deadline) throw new Error(`nats-server did not write its ports file: ${this.stderrTail}`);
      await delay(POLL_MS);
    }
  }

  private async waitAccepting(proc: ChildProcess, deadline: number): Promise<void> {
    for (;;) {
      this.assertAlive(proc);
      if (await canConnect(this.assignedPort)) return;
      if (Date.now() > deadline) throw new Error(`nats-server does not accept connections: ${this.stderrTail}`);
      await delay(POLL_MS);
    }
  }

  private assertAlive(proc: ChildProcess): void {
    if (this.proc !== proc) throw new Error(`nats-server exited during start-up: ${this.stderrTail}`);
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc === null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_DEADLINE_MS);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async kill(): Promise<void> {
    const proc = this.proc;
    if (proc === null) return;
    proc.kill('SIGKILL');
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start(this.assignedPort);
  }

  async dispose(): Promise<void> {
    try {
      await this.kill();
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = tcpConnect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => {
      sock.destroy();
      resolve(false);
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
