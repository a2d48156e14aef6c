// Runs the real `rotor` CLI (services/rotor/src/main.ts) as a child process, exactly as
// `pnpm rotor …` does — node with the launch flags, the tsx loader, main.ts — and waits for the
// structured log line that says it is up ("rotor started" for `rotor start`, "cluster ready" for
// `rotor cluster`). The line's fields (ports, pids) are returned. Warnings and errors the server
// logs afterwards are passed to the harness's log; everything else is read and dropped (a full
// pipe would block the server).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TSX_IMPORT, trackChild, type ChildHandle, childHandle } from './child-server.ts';

/** The CLI's entry point, resolved through the @rotor/cli package (main.ts sits beside index.ts). */
export const ROTOR_MAIN = fileURLToPath(new URL('./main.ts', import.meta.resolve('@rotor/cli')));

export interface RotorCliOptions {
  /** Node flags before the loader (e.g. the launch defaults, `--cpu-prof`). */
  nodeFlags: readonly string[];
  /** Extra environment; every inherited ROTOR_* variable is removed first, so the user's shell
   *  cannot change what is measured. */
  env?: Record<string, string>;
  /** `msg` of the JSON log line that means "ready". */
  readyMessage: string;
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

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('ROTOR_') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, ...extra };
}

export async function startRotorCli(args: readonly string[], opts: RotorCliOptions): Promise<RotorCliProcess> {
  const child = spawn(process.execPath, [...opts.nodeFlags, '--import', TSX_IMPORT, ROTOR_MAIN, ...args], {
    env: cleanEnv(opts.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  const handle = childHandle(child, opts.stopGraceMs);
  const tail: string[] = [];
  let onReady: ((fields: Record<string, unknown>) => void) | null = null;
  const follow = (stream: NodeJS.ReadableStream, parse: boolean) => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      partial += chunk;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        if (!parse || !line.startsWith('{')) continue;
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
    });
  };
  follow(child.stdout!, false);
  follow(child.stderr!, true);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  try {
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`rotor ${args[0] ?? ''} did not log "${opts.readyMessage}" within ${timeoutMs} ms:\n${tail.join('\n')}`)), timeoutMs);
      onReady = (fields) => {
        clearTimeout(timer);
        resolve(fields);
      };
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        // Let the last lines arrive before quoting them.
        setImmediate(() => reject(new Error(`rotor ${args[0] ?? ''} exited before ready (code ${code}, signal ${signal}):\n${tail.join('\n')}`)));
      });
    });
    return { handle, ready };
  } catch (err) {
    await handle.stop();
    throw err;
  }
}
