// Runs the real `rotor` CLI as a child process, as `pnpm rotor …` does — node with the launch
// flags, the tsx loader, the CLI's `run()` — and waits for the structured log line that says it is
// up ("rotor started" for `rotor start`, "cluster ready" for `rotor cluster`). The line's fields
// (ports, pids) are returned. Warnings and errors the server logs afterwards are passed to the
// harness's log.
//
// Surviving a harness killed with SIGKILL (no exit hook runs then):
// - the entry point is the CLI's child entry (services/rotor/src/cluster/child-main.ts: main.ts's
//   dispatch plus a guard that drains the process when its stdin closes), and stdin is a pipe that
//   closes with the harness;
// - stdout and stderr go to a file, not to pipes: a server writing its shutdown lines into a pipe
//   nobody reads any more would die of EPIPE halfway through its stop (a cluster supervisor would
//   leave nats-server behind). The file is followed by polling.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TSX_IMPORT, trackChild, type ChildHandle, childHandle } from './child-server.ts';

/** The CLI's guarded entry point, resolved through the @rotor/cli package. */
export const ROTOR_ENTRY = fileURLToPath(new URL('./cluster/child-main.ts', import.meta.resolve('@rotor/cli')));

export interface RotorCliOptions {
  /** Node flags before the loader (e.g. the launch defaults, `--cpu-prof`). */
  nodeFlags: readonly string[];
  /** Extra environment; every inherited ROTOR_* variable (and NODE_OPTIONS) is removed first, so
   *  the user's shell cannot change what is measured. */
  env?: Record<string, string>;
  /** `msg` of the JSON log line that means "ready". */
  readyMessage: string;
  /** The server's stdout and stderr (created; inside the run's temp dir). */
  logFile: string;
  timeoutMs?: number;
  /** Where the server's warnings and errors go (prefixed with `label`). */
  log(line: string): void;
  label: string;
  /** SIGTERM → SIGKILL grace on stop (a cluster stops its processes in order). */
  stopGraceMs?: number;
}

export interface RotorCliProcess {
  handle: ChildHandle;
  /** Fields of the ready line. */
  ready: Record<string, unknown>;
}

const TAIL_LINES = 40;
const POLL_STARTING_MS = 25;
const POLL_RUNNING_MS = 500;

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('ROTOR_') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, ...extra };
}

/** Reads the lines appended to a file since the last call. */
class FileFollower {
  private offset = 0;
  private partial = '';
  private readonly chunk = Buffer.allocUnsafe(64 * 1024);

  constructor(private readonly fd: number) {}

  lines(): string[] {
    const out: string[] = [];
    for (;;) {
      const n = readSync(this.fd, this.chunk, 0, this.chunk.length, this.offset);
      if (n <= 0) break;
      this.offset += n;
      this.partial += this.chunk.toString('utf8', 0, n);
      let nl: number;
      while ((nl = this.partial.indexOf('\n')) >= 0) {
        out.push(this.partial.slice(0, nl));
        this.partial = this.partial.slice(nl + 1);
      }
    }
    return out;
  }
}

export async function startRotorCli(args: readonly string[], opts: RotorCliOptions): Promise<RotorCliProcess> {
  const out = openSync(opts.logFile, 'w+', 0o600);
  let child;
  try {
    child = spawn(process.execPath, [...opts.nodeFlags, '--import', TSX_IMPORT, ROTOR_ENTRY, ...args], {
      env: cleanEnv(opts.env ?? {}),
      // stdin stays open and unwritten: it closes when this process dies, and the server drains.
      stdio: ['pipe', out, out],
    });
  } catch (err) {
    closeSync(out);
    throw err;
  }
  // An EPIPE on stdin only means the child has already exited; its exit is handled below.
  child.stdin?.on('error', (err) => opts.log(`[${opts.label}] stdin: ${err.message}`));
  trackChild(child);
  const handle = childHandle(child, opts.stopGraceMs);
  const follower = new FileFollower(out);
  const tail: string[] = [];
  let onReady: ((fields: Record<string, unknown>) => void) | null = null;
  const poll = (): void => {
    for (const line of follower.lines()) {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      if (!line.startsWith('{')) continue;
      let fields: Record<string, unknown>;
      try {
        fields = JSON.parse(line) as Record<string, unknown>;
      } catch (err) {
        if (err instanceof SyntaxError) continue; // a line that merely starts with "{"
        throw err;
      }
      if (onReady !== null && fields['msg'] === opts.readyMessage) {
        onReady(fields);
        onReady = null;
      } else if (fields['level'] === 'warn' || fields['level'] === 'error') {
        opts.log(`[${opts.label}] ${line}`);
      }
    }
  };
  let timer: NodeJS.Timeout = setInterval(poll, POLL_STARTING_MS);
  child.once('exit', () => {
    clearInterval(timer);
    poll();
    closeSync(out);
  });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  try {
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`rotor ${args[0] ?? ''} did not log "${opts.readyMessage}" within ${timeoutMs} ms:\n${tail.join('\n')}`)), timeoutMs);
      onReady = (fields) => {
        clearTimeout(deadline);
        resolve(fields);
      };
      child.once('exit', (code, signal) => {
        clearTimeout(deadline);
        reject(new Error(`rotor ${args[0] ?? ''} exited before ready (code ${code}, signal ${signal}):\n${tail.join('\n')}`));
      });
    });
    if (child.exitCode === null && child.signalCode === null) {
      clearInterval(timer);
      timer = setInterval(poll, POLL_RUNNING_MS);
      timer.unref();
    }
    return { handle, ready };
  } catch (err) {
    await handle.stop();
    throw err;
  }
}
