// The publish scenario: server API publish rate and latency, per API transport (HTTP, gRPC), with
// a fixed number of requests in flight. Only targets that expose a server API (RunningTarget.api:
// Rotor) run it; the baselines have none and are reported as skipped.
import { Histogram, type HistogramSummary } from '../../lib/histogram.ts';
import { Meter, type ServerUsage } from '../../lib/meter.ts';
import { fmtPct, fmtRate } from '../../lib/format.ts';
import { payloadTemplate, stampPayload } from '../../lib/payload.ts';
import { nowUs } from '../../lib/clock.ts';
import type { RunningTarget, TargetFactory } from '../../target.ts';
import { supports, withTarget, type CommonOptions, type SkippedRun } from '../common.ts';

export interface PublishOptions extends CommonOptions {
  /** Requests per transport (0: bounded by time only). */
  messages: number;
  /** Requests in flight at once. */
  concurrency: number;
  channels: number;
  /** Transports to measure; empty: every transport the target offers. */
  transports: string[];
}

export interface PublishResult {
  target: string;
  transport: string;
  seconds: number;
  published: number;
  failed: number;
  firstError: string | null;
  publishesPerSecond: number;
  /** Request → acknowledgement (µs). */
  latencyUs: HistogramSummary;
  server: ServerUsage[];
  serverCpuPercent: number;
  publishesPerServerCpuSecond: number;
  generatorCpuPercent: number;
}

export async function runPublishOn(factory: TargetFactory, o: PublishOptions): Promise<(PublishResult | SkippedRun)[]> {
  const why = supports(factory, 'publish');
  if (why) return [{ target: factory.name, skipped: why }];
  return withTarget(factory, { ...o, maxWindow: 1 }, (t) => runAgainst(factory, t, o));
}

async function runAgainst(factory: TargetFactory, target: RunningTarget, o: PublishOptions): Promise<(PublishResult | SkippedRun)[]> {
  const api = target.api;
  if (!api) return [{ target: factory.name, skipped: 'the running target exposes no server API' }];
  const transports = o.transports.length > 0 ? o.transports : [...api.transports];
  const out: (PublishResult | SkippedRun)[] = [];
  const template = payloadTemplate(o.payloadSize);
  for (const transport of transports) {
    if (!api.transports.includes(transport)) {
      out.push({ target: factory.name, skipped: `no ${transport} API` });
      continue;
    }
    const tag = `[${factory.name} publish/${transport}]`;
    const client = await api.open(transport);
    try {
      const meter = new Meter(target.processes);
      const h = new Histogram();
      let sent = 0;
      let ok = 0;
      let failed = 0;
      let firstError: string | null = null;
      const seq = new Int32Array(o.channels);
      const one = async (record: boolean) => {
        const c = sent++ % o.channels;
        const payload = Buffer.from(template);
        stampPayload(payload, 0, c, 0, (seq[c] = seq[c]! + 1), nowUs());
        const t0 = performance.now();
        try {
          await client.publish(api.channelName(c), payload);
          if (record) {
            h.record((performance.now() - t0) * 1000);
            ok++;
          }
        } catch (err) {
          if (record) failed++;
          firstError ??= (err as Error).message;
        }
      };
      const warmEnd = performance.now() + o.warmupMs;
      await Promise.all(Array.from({ length: o.concurrency }, async () => {
        while (performance.now() < warmEnd) await one(false);
      }));
      sent = 0;
      const limit = o.messages > 0 ? o.messages : Number.POSITIVE_INFINITY;
      const a = meter.snapshot();
      const end = performance.now() + o.durationMs;
      let last = { t: performance.now(), n: 0 };
      const ticker = setInterval(() => {
        const now = { t: performance.now(), n: ok };
        o.log(`${tag} ${fmtRate((now.n - last.n) / ((now.t - last.t) / 1000))} publishes/s  failed ${failed}`);
        last = now;
      }, 1000);
      try {
        await Promise.all(Array.from({ length: o.concurrency }, async () => {
          while (sent < limit && performance.now() < end) await one(true);
        }));
      } finally {
        clearInterval(ticker);
      }
      const u = meter.usage(a, meter.snapshot());
      const cpuSeconds = (u.serverCpuPercent / 100) * u.seconds;
      o.log(`${tag} done: ${fmtRate(ok / u.seconds)}/s, server cpu ${fmtPct(u.serverCpuPercent)}`);
      out.push({
        target: factory.name,
        transport,
        seconds: u.seconds,
        published: ok,
        failed,
        firstError,
        publishesPerSecond: u.seconds > 0 ? ok / u.seconds : 0,
        latencyUs: h.summary(),
        server: u.server,
        serverCpuPercent: u.serverCpuPercent,
        publishesPerServerCpuSecond: cpuSeconds > 0 ? ok / cpuSeconds : 0,
        generatorCpuPercent: u.generatorCpuPercent,
      });
    } finally {
      await client.close();
    }
  }
  return out;
}

export async function runPublish(factories: TargetFactory[], o: PublishOptions): Promise<(PublishResult | SkippedRun)[]> {
  const out: (PublishResult | SkippedRun)[] = [];
  for (const f of factories) {
    try {
      const r = await runPublishOn(f, o);
      for (const x of r) if ('skipped' in x) o.log(`[${f.name}] publish skipped: ${x.skipped}`);
      out.push(...r);
    } catch (err) {
      o.log(`[${f.name}] failed: ${(err as Error).message}`);
      out.push({ target: f.name, skipped: `failed: ${(err as Error).message}` });
    }
  }
  return out;
}
