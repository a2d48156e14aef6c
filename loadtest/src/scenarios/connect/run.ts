// The connect scenario: how many connections per second a server accepts, each one going through
// the target's full connection setup and one acknowledged subscribe (for Rotor: the connect command
// with its JWT, verified by the server, then a subscribe). Each connection is closed with a TCP
// reset right after, so no TIME_WAIT piles up and the run stays bounded in ports.
//
// The attempts run in worker threads (`workers`, default: every core), `concurrency` in flight over
// all of them, so the client side is not one thread's event loop: with a single thread the
// generator, not the server, was the limit. The main thread only switches phases and reports.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { Histogram, type HistogramSummary } from '../../lib/histogram.ts';
import { Meter } from '../../lib/meter.ts';
import { fmtPct, fmtRate } from '../../lib/format.ts';
import { nextMessage, startTsWorker } from '../../lib/ts-worker.ts';
import type { RunningTarget, TargetFactory } from '../../target.ts';
import type { ServerUsage } from '../../lib/meter.ts';
import { isSkipped, sleep, supports, withTarget, type CommonOptions, type SkippedRun } from '../common.ts';
import {
  COUNTER_FAILED,
  COUNTER_OK,
  COUNTER_SLOTS,
  CTRL_PHASE,
  CTRL_SLOTS,
  PHASE_MEASURE,
  PHASE_STOP,
  type ConnectWorkerData,
  type FromConnectWorker,
} from './shared.ts';

export interface ConnectOptions extends CommonOptions {
  /** Total connections (0: bounded by time only). */
  connects: number;
  /** Connection attempts in flight at once, over every worker. */
  concurrency: number;
  channels: number;
  /** Generator worker threads (default: every core). */
  workers?: number;
}

export interface ConnectResult {
  target: string;
  format: string;
  seconds: number;
  connects: number;
  failed: number;
  firstError: string | null;
  connectsPerSecond: number;
  /** Time from TCP connect to the subscribe acknowledgement (µs). */
  latencyUs: HistogramSummary;
  server: ServerUsage[];
  serverCpuPercent: number;
  connectsPerServerCpuSecond: number;
  serverRssBytes: number;
  /** The load generator, every thread. */
  generatorCpuPercent: number;
  generatorThreads: number;
}

/** Start-up of a worker (tsx registration, driver import, token signing) may take a while. */
const WORKER_READY_TIMEOUT_MS = 60_000;
/** After the measurement ends, in-flight attempts finish within the driver's handshake timeout. */
const WORKER_DONE_TIMEOUT_MS = 30_000;

export function defaultConnectWorkers(): number {
  return Math.max(1, availableParallelism());
}

export async function runConnectOn(factory: TargetFactory, o: ConnectOptions): Promise<ConnectResult | SkippedRun> {
  const why = supports(factory, 'connect');
  if (why) return { target: factory.name, skipped: why };
  return withTarget(factory, { ...o, maxWindow: 1 }, (t) => runAgainst(factory, t, o));
}

async function runAgainst(factory: TargetFactory, target: RunningTarget, o: ConnectOptions): Promise<ConnectResult> {
  const tag = `[${factory.name} connect]`;
  const workers = Math.max(1, Math.min(o.workers ?? defaultConnectWorkers(), o.concurrency));
  const ctrlBuf = new SharedArrayBuffer(CTRL_SLOTS * 4);
  const countersBuf = new SharedArrayBuffer(workers * COUNTER_SLOTS * 8);
  const ctrl = new Int32Array(ctrlBuf);
  const counters = new Float64Array(countersBuf);
  const sum = (slot: number) => {
    let s = 0;
    for (let w = 0; w < workers; w++) s += counters[w * COUNTER_SLOTS + slot]!;
    return s;
  };
  const meter = new Meter(target.processes);
  const threads: Worker[] = [];
  try {
    for (let w = 0; w < workers; w++) {
      const data: ConnectWorkerData = {
        workerIndex: w,
        workers,
        driverModule: target.driverModule,
        endpoint: target.endpoint,
        format: target.format,
        lanes: Math.floor(o.concurrency / workers) + (w < o.concurrency % workers ? 1 : 0),
        channels: Math.max(1, o.channels),
        limit: o.connects > 0 ? o.connects : Number.POSITIVE_INFINITY,
        spread: target.endpoint.host === '127.0.0.1',
        ctrl: ctrlBuf,
        counters: countersBuf,
      };
      threads.push(startTsWorker(new URL('./worker.ts', import.meta.url).href, data));
    }
    const isReady = (m: unknown): m is FromConnectWorker => (m as FromConnectWorker).type === 'ready';
    const isDone = (m: unknown): m is Extract<FromConnectWorker, { type: 'done' }> => (m as FromConnectWorker).type === 'done';
    await Promise.all(threads.map((t) => nextMessage(t, isReady, WORKER_READY_TIMEOUT_MS, 'ready')));
    const done = threads.map((t) => nextMessage(t, isDone, o.durationMs + o.warmupMs + WORKER_DONE_TIMEOUT_MS, 'done'));
    // Unawaited until the end: a worker failing early must not become an unhandled rejection.
    for (const d of done) d.catch(() => undefined);
    for (const t of threads) t.postMessage({ type: 'start' });
    // Warm-up: unmeasured attempts so one-off start-up costs (JIT, first allocations) stay out.
    if (o.warmupMs > 0) await sleep(o.warmupMs);

    const a = meter.snapshot();
    const t0 = performance.now();
    Atomics.store(ctrl, CTRL_PHASE, PHASE_MEASURE);
    let last = { t: t0, n: 0, snap: a };
    const ticker = setInterval(() => {
      const now = { t: performance.now(), n: sum(COUNTER_OK), snap: meter.snapshot() };
      const u = meter.usage(last.snap, now.snap);
      o.log(`${tag} ${((now.t - t0) / 1000).toFixed(0)}s  ${fmtRate((now.n - last.n) / ((now.t - last.t) / 1000))} connects/s  failed ${sum(COUNTER_FAILED)}  server cpu ${fmtPct(u.serverCpuPercent)}  generator cpu ${fmtPct(u.generatorCpuPercent)}`);
      last = now;
    }, 1000);
    let results: Extract<FromConnectWorker, { type: 'done' }>[];
    try {
      // Ends at the deadline, or earlier when --connects is reached (every worker's lanes return).
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, o.durationMs);
      });
      await Promise.race([deadline, Promise.all(done)]);
      clearTimeout(timer);
      Atomics.store(ctrl, CTRL_PHASE, PHASE_STOP);
      results = await Promise.all(done);
    } finally {
      clearInterval(ticker);
    }
    const b = meter.snapshot();
    const u = meter.usage(a, b);
    const h = new Histogram();
    let ok = 0;
    let failed = 0;
    let firstError: string | null = null;
    for (const r of results) {
      h.merge(Histogram.fromJSON(r.histogram));
      ok += r.ok;
      failed += r.failed;
      firstError ??= r.firstError;
    }
    const cpuSeconds = (u.serverCpuPercent / 100) * u.seconds;
    return {
      target: factory.name,
      format: target.format,
      seconds: u.seconds,
      connects: ok,
      failed,
      firstError,
      connectsPerSecond: u.seconds > 0 ? ok / u.seconds : 0,
      latencyUs: h.summary(),
      server: u.server,
      serverCpuPercent: u.serverCpuPercent,
      connectsPerServerCpuSecond: cpuSeconds > 0 ? ok / cpuSeconds : 0,
      serverRssBytes: u.serverRssBytes,
      generatorCpuPercent: u.generatorCpuPercent,
      generatorThreads: workers,
    };
  } finally {
    Atomics.store(ctrl, CTRL_PHASE, PHASE_STOP);
    await Promise.all(threads.map((t) => t.terminate()));
  }
}

export async function runConnect(factories: TargetFactory[], o: ConnectOptions): Promise<(ConnectResult | SkippedRun)[]> {
  const out: (ConnectResult | SkippedRun)[] = [];
  for (const f of factories) {
    try {
      const r = await runConnectOn(f, o);
      if (isSkipped(r)) o.log(`[${f.name}] skipped: ${r.skipped}`);
      out.push(r);
    } catch (err) {
      o.log(`[${f.name}] failed: ${(err as Error).message}`);
      out.push({ target: f.name, skipped: `failed: ${(err as Error).message}` });
    }
  }
  return out;
}
