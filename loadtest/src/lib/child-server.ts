// Starts a server as a child process and stops it. TypeScript servers run under tsx (as Rotor itself
// does, so every Node target pays the same loader overhead); a server script reports readiness by
// sending `{ type: 'ready', port }` over IPC once it listens. Every child is killed if the harness
// exits without stopping it.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const live = new Set<ChildProcess>();
/** Grandchildren (a cluster's processes, started by its supervisor): pid → a string their
 *  command line contains (guards against a recycled pid). */
const livePids = new Map<number, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
    for (const [pid, marker] of livePids) killIfOurs(pid, marker, 'SIGKILL');
  });
}

/** Kills `child` with SIGKILL if the harness exits while it still runs. */
export function trackChild(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  installExitHook();
}

/** Sends a signal to a pid; false when it no longer exists. */
export function killPid(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Signals `pid` only while its command line contains `marker`; false when it is gone (or not ours). */
export function killIfOurs(pid: number, marker: string, signal: NodeJS.Signals): boolean {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
  return cmdline.includes(marker) && killPid(pid, signal);
}

/**
 * A process started on our behalf by a child (e.g. nats-server under `rotor cluster`), whose
 * command line contains `marker`: SIGKILLed if the harness exits while it is still tracked.
 * `untrackPid` once it is known to be gone.
 */
export function trackPid(pid: number, marker: string): void {
  livePids.set(pid, marker);
  installExitHook();
}

export function untrackPid(pid: number): void {
  livePids.delete(pid);
}

export const TSX_IMPORT = import.meta.resolve('tsx');

export interface ChildHandle {
  readonly child: ChildProcess;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** A stop handle for a tracked child; `stop()` waits `defaultGraceMs` before SIGKILL. */
export function childHandle(child: ChildProcess, defaultGraceMs = 3000, state: { stopping: boolean } = { stopping: false }): ChildHandle {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    child,
    pid: child.pid ?? -1,
    async stop(graceMs = defaultGraceMs) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      state.stopping = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Forks a TypeScript module and waits for its `{ type: 'ready', port, extra? }` message. */
export async function forkServer(
  moduleUrl: string,
  args: string[],
  timeoutMs = 20_000,
): Promise<{ handle: ChildHandle; port: number; extra: Record<string, number | string> }> {
  const child = fork(fileURLToPath(moduleUrl), args, {
    execArgv: ['--import', TSX_IMPORT],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  trackChild(child);
  const h = childHandle(child);
  try {
    const ready = await new Promise<{ port: number; extra: Record<string, number | string> }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${moduleUrl} did not report ready within ${timeoutMs} ms`)), timeoutMs);
      child.on('message', (m: unknown) => {
        const msg = m as { type?: string; port?: number; error?: string; extra?: Record<string, number | string> };
        if (msg.type === 'ready' && typeof msg.port === 'number') {
          clearTimeout(timer);
          resolve({ port: msg.port, extra: msg.extra ?? {} });
        } else if (msg.type === 'error') {
          clearTimeout(timer);
          reject(new Error(`${moduleUrl}: ${msg.error ?? 'failed'}`));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${moduleUrl} exited before ready (code ${code}, signal ${signal})`));
      });
    });
    return { handle: h, ...ready };
  } catch (err) {
    await h.stop();
    throw err;
  }
}

/** Spawns a native binary. */
export function spawnProcess(command: string, args: string[]): ChildHandle {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const state = { stopping: false };
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    if (stderr.length < 8192) stderr += s;
  });
  child.once('exit', (code, signal) => {
    // Some servers (nats-server) exit non-zero on SIGTERM: only an unexpected exit is worth a word.
    if (!state.stopping && code !== 0 && code !== null && signal === null) process.stderr.write(`${command} exited with code ${code}: ${stderr}\n`);
  });
  trackChild(child);
  return childHandle(child, 3000, state);
}

/** For server scripts: report the listening port (and any other ports) to the parent. */
export function reportReady(port: number, extra: Record<string, number | string> = {}): void {
  if (!process.send) throw new Error('server script must be started by the harness (no IPC channel)');
  process.send({ type: 'ready', port, extra });
}

/** For server scripts: exit on SIGTERM/SIGINT or when the parent goes away. */
export function exitWithParent(cleanup: () => void): void {
  const stop = () => {
    cleanup();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop);
}
