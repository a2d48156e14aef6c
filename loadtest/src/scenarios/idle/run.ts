// The idle scenario: N idle subscribed connections, spread over client child processes, and the
// server's resident memory per connection: (RSS after − RSS before) / N, each RSS read once it has
// stopped moving (bounded wait).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmtBytes } from '../../lib/format.ts';
import { Meter } from '../../lib/meter.ts';
import { sampleProcess } from '../../lib/proc-stats.ts';
import { TSX_IMPORT } from '../../lib/child-server.ts';
import type { RunningTarget, TargetFactory } from '../../target.ts';
import { isSkipped, sleep, supports, withTarget, type CommonOptions, type SkippedRun } from '../common.ts';
import type { IdleChildConfig, IdleChildMessage, IdleParentMessage } from './protocol.ts';

export interface IdleOptions extends CommonOptions {
  connections: number;
  channels: number;
  /** Connections per client process (each process may hold at most 20 000 open files). */
  perProcess: number;
  connectConcurrency: number;
  /** Longest wait for RSS to stop moving, before and after connecting. */
  settleMs: number;
}

export interface SettleResult {
  rssBytes: number;
  /** True when RSS stopped moving before the deadline. */
  stable: boolean;
  waitedMs: number;
}

export interface IdleResult {
  target: string;
  format: string;
  connections: number;
  failed: number;
  /** Connections the server closed while they sat idle. */
  droppedWhileIdle: number;
  clientProcesses: number;
  connectSeconds: number;
  rssBefore: SettleResult;
  rssAfter: SettleResult;
  bytesPerConnection: number;
  /** Server CPU while the connections sat idle (keepalive cost), percent of one core. */
  idleServerCpuPercent: number;
  /** Each server process's RSS when `rssBefore` and `rssAfter` were taken (multi-process targets). */
  processes: { label: string; pid: number; rssBeforeBytes: number; rssAfterBytes: number }[];
}

const SAMPLE_MS = 250;
const WINDOW = 5; // samples (1.25 s) that must agree

/** Waits until the server's RSS varies by less than max(0.5 %, 256 KB) over a window of samples. */
export async function settleRss(read: () => number, maxMs: number): Promise<SettleResult> {
  const start = performance.now();
  const samples: number[] = [read()];
  for (;;) {
    const lo = Math.min(...samples);
    const hi = Math.max(...samples);
    const waited = performance.now() - start;
    if (samples.length >= WINDOW && hi - lo <= Math.max(hi * 0.005, 256 * 1024)) return { rssBytes: samples[samples.length - 1]!, stable: true, waitedMs: waited };
    if (waited >= maxMs) return { rssBytes: samples[samples.length - 1]!, stable: false, waitedMs: waited };
    await sleep(SAMPLE_MS);
    samples.push(read());
    if (samples.length > WINDOW) samples.shift();
  }
}

interface Child {
  proc: ChildProcess;
  connected: number;
  failed: number;
}

function startChild(config: IdleChildConfig): Promise<{ child: Child; ready: Promise<IdleChildMessage & { type: 'ready' }> }> {
  const proc = fork(fileURLToPath(new URL('./child.ts', import.meta.url)), [], {
    execArgv: ['--import', TSX_IMPORT],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const child: Child = { proc, connected: 0, failed: 0 };
  const ready = new Promise<IdleChildMessage & { type: 'ready' }>((resolve, reject) => {
    proc.on('message', (m: IdleChildMessage) => {
      if (m.type === 'progress') {
        child.connected = m.connected;
        child.failed = m.failed;
      } else if (m.type === 'ready') {
        child.connected = m.connected;
        child.failed = m.failed;
        resolve(m);
      }
    });
    proc.once('exit', (code) => reject(new Error(`idle client process exited early (code ${code})`)));
  });
  ready.catch(() => undefined);
  proc.send({ type: 'open', config } satisfies IdleParentMessage);
  return Promise.resolve({ child, ready });
}

function ask<T extends IdleChildMessage['type']>(proc: ChildProcess, msg: IdleParentMessage, type: T, timeoutMs: number): Promise<Extract<IdleChildMessage, { type: T }> | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(null), timeoutMs);
    const onMsg = (m: IdleChildMessage) => {
      if (m.type === type) done(m as Extract<IdleChildMessage, { type: T }>);
    };
    const onExit = () => done(null);
    function done(v: Extract<IdleChildMessage, { type: T }> | null) {
      clearTimeout(timer);
      proc.off('message', onMsg);
      proc.off('exit', onExit);
      resolve(v);
    }
    proc.on('message', onMsg);
    proc.once('exit', onExit);
    if (proc.connected) proc.send(msg);
    else done(null);
  });
}

async function stopChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  await ask(proc, { type: 'close' }, 'closed', 5000);
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export async function runIdleOn(factory: TargetFactory, o: IdleOptions): Promise<IdleResult | SkippedRun> {
  const why = supports(factory, 'idle');
  if (why) return { target: factory.name, skipped: why };
  return withTarget(factory, { ...o, maxWindow: 1 }, (t) => runAgainst(factory, t, o));
}

async function runAgainst(factory: TargetFactory, target: RunningTarget, o: IdleOptions): Promise<IdleResult> {
  const tag = `[${factory.name} idle]`;
  const children: Child[] = [];
  const meter = new Meter(target.processes, () => children.map((c) => c.proc.pid ?? -1));
  try {
    o.log(`${tag} waiting for the server's RSS to settle…`);
    const before = await settleRss(() => meter.serverRss(), o.settleMs);
    const perProcess = () => target.processes.map((p) => sampleProcess(p.pid)?.rssBytes ?? 0);
    const processesBefore = perProcess();
    o.log(`${tag} RSS before: ${fmtBytes(before.rssBytes)}${before.stable ? '' : ' (still moving)'}; opening ${o.connections} connections…`);
    const t0 = performance.now();
    const nProc = Math.max(1, Math.ceil(o.connections / o.perProcess));
    const readies: Promise<IdleChildMessage & { type: 'ready' }>[] = [];
    const spreadSources = target.endpoint.host === '127.0.0.1';
    for (let p = 0; p < nProc; p++) {
      const from = Math.floor((p * o.connections) / nProc);
      const to = Math.floor(((p + 1) * o.connections) / nProc);
      const { child, ready } = await startChild({
        driverModule: target.driverModule,
        endpoint: target.endpoint,
        format: target.format,
        from,
        count: to - from,
        channels: o.channels,
        concurrency: o.connectConcurrency,
        spreadSources,
      });
      children.push(child);
      readies.push(ready);
    }
    const ticker = setInterval(() => {
      const c = children.reduce((n, x) => n + x.connected, 0);
      o.log(`${tag} ${((performance.now() - t0) / 1000).toFixed(0)}s connected ${c}/${o.connections}  server rss ${fmtBytes(meter.serverRss())}`);
    }, 1000);
    // Bounded: each handshake has its own deadline, and the whole connect phase has this one.
    const deadlineMs = 60_000 + o.connections * 5;
    let deadline: NodeJS.Timeout | undefined;
    let ready: (IdleChildMessage & { type: 'ready' })[];
    try {
      ready = await Promise.race([
        Promise.all(readies),
        new Promise<never>((_, reject) => {
          deadline = setTimeout(() => reject(new Error(`connections not all open after ${deadlineMs} ms`)), deadlineMs);
        }),
      ]);
    } finally {
      clearInterval(ticker);
      clearTimeout(deadline);
    }
    const connectSeconds = (performance.now() - t0) / 1000;
    const connected = ready.reduce((n, r) => n + r.connected, 0);
    const failed = ready.reduce((n, r) => n + r.failed, 0);
    if (failed > 0) o.log(`${tag} ${failed} connections failed: ${ready.find((r) => r.firstError)?.firstError ?? ''}`);
    if (connected === 0) throw new Error(`no connection succeeded: ${ready.find((r) => r.firstError)?.firstError ?? 'unknown'}`);
    o.log(`${tag} ${connected} connected in ${connectSeconds.toFixed(1)}s; waiting for the server's RSS to settle…`);
    const s0 = meter.snapshot();
    const after = await settleRss(() => meter.serverRss(), o.settleMs);
    const processesAfter = perProcess();
    const s1 = meter.snapshot();
    const statuses = await Promise.all(children.map((c) => ask(c.proc, { type: 'status' }, 'status', 5000)));
    const dropped = statuses.reduce((n, s) => n + (s?.closed ?? 0), 0);
    const perConn = (after.rssBytes - before.rssBytes) / connected;
    o.log(`${tag} RSS after: ${fmtBytes(after.rssBytes)}${after.stable ? '' : ' (still moving)'} → ${fmtBytes(perConn)} per connection`);
    return {
      target: factory.name,
      format: target.format,
      connections: connected,
      failed,
      droppedWhileIdle: dropped,
      clientProcesses: nProc,
      connectSeconds,
      rssBefore: before,
      rssAfter: after,
      bytesPerConnection: perConn,
      idleServerCpuPercent: meter.usage(s0, s1).serverCpuPercent,
      processes: target.processes.map((p, i) => ({ label: p.label, pid: p.pid, rssBeforeBytes: processesBefore[i] ?? 0, rssAfterBytes: processesAfter[i] ?? 0 })),
    };
  } finally {
    await Promise.all(children.map((c) => stopChild(c.proc)));
  }
}

export async function runIdle(factories: TargetFactory[], o: IdleOptions): Promise<(IdleResult | SkippedRun)[]> {
  const out: (IdleResult | SkippedRun)[] = [];
  for (const f of factories) {
    try {
      const r = await runIdleOn(f, o);
      if (isSkipped(r)) o.log(`[${f.name}] skipped: ${r.skipped}`);
      out.push(r);
    } catch (err) {
      o.log(`[${f.name}] failed: ${(err as Error).message}`);
      out.push({ target: f.name, skipped: `failed: ${(err as Error).message}` });
    }
  }
  return out;
}
