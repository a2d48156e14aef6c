// The life of a role process (`rotor gateway|api|history`): start (which may wait for NATS), serve
// until SIGTERM/SIGINT, then a graceful stop bounded by shutdown.timeout; a second signal cuts the
// graceful stop short. A signal during start-up ends the process cleanly too (exit 0).
import type { Logger } from '@rotor/core';

/** What a started role offers to the lifecycle. */
export interface RunningRole {
  /** Graceful stop: readiness off, clients drained, connections closed. */
  drain(): Promise<void>;
  /** Immediate stop (second signal). */
  close(): Promise<void>;
  /** Resolves with a reason when the role cannot go on (it is then stopped, exit code 1). */
  failed?: Promise<string>;
}

/** After a stop, how long open handles may keep the process before it exits anyway. */
const EXIT_GRACE_MS = 2_000;

class StopSignals {
  private readonly controller = new AbortController();
  private count = 0;
  onSecond: (() => void) | null = null;
  readonly first: Promise<NodeJS.Signals>;
  private resolveFirst!: (s: NodeJS.Signals) => void;

  constructor(private readonly log: Logger) {
    this.first = new Promise((resolve) => (this.resolveFirst = resolve));
    process.on('SIGTERM', this.handle);
    process.on('SIGINT', this.handle);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  private readonly handle = (signal: NodeJS.Signals): void => {
    this.count++;
    if (this.count === 1) {
      this.log.info('signal received, stopping', { signal });
      this.controller.abort(new Error(`stopped by ${signal}`));
      this.resolveFirst(signal);
      return;
    }
    this.log.warn('second signal: closing at once', { signal });
    this.onSecond?.();
  };

  dispose(): void {
    process.off('SIGTERM', this.handle);
    process.off('SIGINT', this.handle);
  }
}

/**
 * Runs a role: `start` receives an AbortSignal that fires on the first SIGTERM/SIGINT (so a start
 * that waits for NATS can give up); resolves with the exit code once the role has stopped.
 */
export async function runRole(log: Logger, shutdownTimeoutMs: number, start: (signal: AbortSignal) => Promise<RunningRole>): Promise<number> {
  const signals = new StopSignals(log);
  let role: RunningRole;
  try {
    role = await start(signals.signal);
  } catch (err) {
    signals.dispose();
    if (signals.signal.aborted) {
      log.info('rotor stopped before it was ready', { exitCode: 0 });
      exitSoon(0, log);
      return 0;
    }
    throw err;
  }
  const failure = await Promise.race([signals.first.then(() => null), role.failed ?? new Promise<never>(() => undefined)]);
  if (failure !== null) log.error('stopping', { reason: failure });
  signals.onSecond = () => {
    role.close().then(
      () => undefined,
      (err: unknown) => log.error('close failed', { error: String(err) }),
    );
  };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      log.error('shutdown did not finish in time', { timeoutMs: shutdownTimeoutMs });
      resolve(1);
    }, shutdownTimeoutMs);
  });
  const drained = role.drain().then(
    () => 0,
    (err: unknown) => {
      log.error('stop failed', { error: String(err) });
      return 1;
    },
  );
  const code = Math.max(await Promise.race([drained, deadline]), failure === null ? 0 : 1);
  clearTimeout(timer);
  signals.dispose();
  log.info('rotor stopped', { exitCode: code });
  exitSoon(code, log);
  return code;
}

/** Exit even if something forgot to close a handle; unref'd, so a clean stop exits at once. */
function exitSoon(code: number, log: Logger): void {
  setTimeout(() => {
    log.warn('handles still open after shutdown; exiting');
    process.exit(code);
  }, EXIT_GRACE_MS).unref();
}
