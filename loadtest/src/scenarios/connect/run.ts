// The connect scenario: how many connections per second a server accepts, each one going through
// the target's full connection setup and one acknowledged subscribe (for Rotor: the connect command
// with its JWT, verified by the server, then a subscribe). Each connection is closed with a TCP
// reset right after, so no TIME_WAIT piles up and the run stays bounded in ports.
import { Histogram, type HistogramSummary } from '../../lib/histogram.ts';
import { Meter } from '../../lib/meter.ts';
import { fmtPct, fmtRate } from '../../lib/format.ts';
import type { CreateDriver, MessageSink, RunningTarget, TargetFactory } from '../../target.ts';
import type { ServerUsage } from '../../lib/meter.ts';
import { isSkipped, supports, withTarget, type CommonOptions, type SkippedRun } from '../common.ts';

export interface ConnectOptions extends CommonOptions {
  /** Total connections (0: bounded by time only). */
  connects: number;
  /** Connection attempts in flight at once. */
  concurrency: number;
  channels: number;
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
  generatorCpuPercent: number;
}

const noopSink: MessageSink = { onChunk: () => undefined, onFrame: () => undefined, onPayload: () => undefined, onClose: () => undefined };

export async function runConnectOn(factory: TargetFactory, o: ConnectOptions): Promise<ConnectResult | SkippedRun> {
  const why = supports(factory, 'connect');
  if (why) return { target: factory.name, skipped: why };
  return withTarget(factory, { ...o, maxWindow: 1 }, (t) => runAgainst(factory, t, o));
}

async function runAgainst(factory: TargetFactory, target: RunningTarget, o: ConnectOptions): Promise<ConnectResult> {
  const tag = `[${factory.name} connect]`;
  const mod = (await import(target.driverModule)) as { createDriver: CreateDriver };
  const driver = mod.createDriver(target.endpoint, { format: target.format });
  const h = new Histogram();
  const meter = new Meter(target.processes);
  const limit = o.connects > 0 ? o.connects : Number.POSITIVE_INFINITY;
  let started = 0;
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  const spread = target.endpoint.host === '127.0.0.1';

  // Warm-up: a short untimed burst so one-off start-up costs (JIT, first allocations) stay out.
  const warmEnd = performance.now() + o.warmupMs;
  const lane = async (until: () => boolean, record: boolean) => {
    while (!until()) {
      const i = started++;
      const t0 = performance.now();
      try {
        const localAddress = spread ? `127.0.${(i >> 8) & 255}.${(i & 255) | 1}` : undefined;
        const conn = await driver.subscribe([driver.channelName(i % o.channels)], noopSink, { localAddress });
        conn.abort();
        if (record) {
          h.record((performance.now() - t0) * 1000);
          ok++;
        }
      } catch (err) {
        if (record) failed++;
        firstError ??= (err as Error).message;
      }
    }
  };
  if (o.warmupMs > 0) await Promise.all(Array.from({ length: o.concurrency }, () => lane(() => performance.now() >= warmEnd, false)));

  started = 0;
  const a = meter.snapshot();
  const t0 = performance.now();
  const end = t0 + o.durationMs;
  let last = { t: t0, n: 0, snap: a };
  const ticker = setInterval(() => {
    const now = { t: performance.now(), n: ok, snap: meter.snapshot() };
    const u = meter.usage(last.snap, now.snap);
    o.log(`${tag} ${((now.t - t0) / 1000).toFixed(0)}s  ${fmtRate((now.n - last.n) / ((now.t - last.t) / 1000))} connects/s  failed ${failed}  server cpu ${fmtPct(u.serverCpuPercent)}  generator cpu ${fmtPct(u.generatorCpuPercent)}`);
    last = now;
  }, 1000);
  try {
    await Promise.all(Array.from({ length: o.concurrency }, () => lane(() => started >= limit || performance.now() >= end, true)));
  } finally {
    clearInterval(ticker);
  }
  const b = meter.snapshot();
  const u = meter.usage(a, b);
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
  };
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
