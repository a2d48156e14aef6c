// The fanout scenario: S subscribers over C channels, P publishers with closed-loop flow control
// (at most W messages per channel published and not yet received by the slowest live subscriber),
// one measurement phase per window. See README.md for what each figure means.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { clockBase, nowUs } from '../../lib/clock.ts';
import { Histogram, type HistogramSummary } from '../../lib/histogram.ts';
import { Meter, type MeterSnapshot, type ServerUsage } from '../../lib/meter.ts';
import { MAX_CHANNELS, MAX_PUBLISHERS, payloadTemplate, stampPayload } from '../../lib/payload.ts';
import { fmtBytes, fmtPct, fmtRate } from '../../lib/format.ts';
import { nextMessage, startTsWorker } from '../../lib/ts-worker.ts';
import type { CreateDriver, PublisherConn, RunningTarget, TargetFactory } from '../../target.ts';
import { isSkipped, supports, withTarget, type CommonOptions, type SkippedRun } from '../common.ts';
import { publisherChannels, validateShape, workerRange, type FanoutShape } from './plan.ts';
import {
  COUNTER_CONNECTED,
  COUNTER_DELIVERED,
  COUNTER_DISCONNECTED,
  COUNTER_FRAMES,
  COUNTER_SLOTS,
  CTRL_SLOTS,
  CTRL_WAITING,
  CTRL_WAKE,
  MAX_LISTED_SUBSCRIBERS,
  NO_SUBSCRIBER,
  type FanoutWorkerData,
  type FromWorker,
  type LossStats,
  type ToWorker,
} from './shared.ts';

/**
 * A fixed-rate (open-loop) phase: publications are sent on a schedule, each stamped with the time
 * it was due (so a publisher held back by the window or the server still counts the wait).
 * `perSecond`: publications per second over all publishers; `peakFraction`: that fraction of the
 * best publish rate the target reached in the closed-loop phases of the same run.
 */
export type RateSpec = { perSecond: number } | { peakFraction: number };

export interface FanoutOptions extends CommonOptions, FanoutShape {
  /** One closed-loop measurement phase per window, in order. */
  windows: number[];
  /**
   * Fixed-rate phases after the closed-loop ones, in order (none by default). When every one is a
   * `perSecond` rate the closed-loop phases are skipped. The largest window caps what may be in
   * flight.
   */
  rates?: RateSpec[];
  /** Per-phase cap on published messages (0: bounded by time only). */
  messages: number;
  /** Subscriber worker threads. */
  workers: number;
  /** A phase ends as stalled when nothing is delivered for this long while publishers wait. */
  stallTimeoutMs: number;
  /** After publishing stops, how long to wait for the last messages. */
  drainTimeoutMs: number;
  connectConcurrency: number;
}

export interface FanoutResult {
  target: string;
  format: string;
  window: number;
  /** Fixed-rate phase: the scheduled publications per second (0: closed loop). */
  rate?: number;
  /** How the rate was asked for: e.g. "50%" of the peak, or "1000/s". */
  rateSpec?: string;
  subscribers: number;
  channels: number;
  subChannels: number;
  publishers: number;
  payloadSize: number;
  /** Length of the measurement interval (s). */
  seconds: number;
  published: number;
  delivered: number;
  deliveredPerSecond: number;
  framesPerSecond: number;
  messagesPerFrame: number;
  /** Publish → receive latency (µs) over the measurement interval (and the drain after it). */
  latencyUs: HistogramSummary;
  server: ServerUsage[];
  serverCpuPercent: number;
  deliveriesPerServerCpuSecond: number;
  serverRssBytes: number;
  generatorCpuPercent: number;
  generatorThreads: number;
  /** How the phase ended: time or message budget reached, or stalled (nothing delivered). */
  ended: 'time' | 'messages' | 'stalled';
  /** Whether every published message reached every live subscriber before the drain timeout. */
  drained: boolean;
  loss: LossStats;
}

// Atomics.waitAsync is in Node 20 (V8) but not in the ES2023 lib typings the workspace uses.
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): WaitAsyncResult }).waitAsync;

const PUBLISHER_HIGH_WATER = 1024 * 1024;
const MAX_BURST = 1024;

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function validateFanout(o: FanoutOptions): string | null {
  const shape = validateShape(o);
  if (shape) return shape;
  if (o.channels > MAX_CHANNELS) return `at most ${MAX_CHANNELS} channels`;
  if (o.publishers > MAX_PUBLISHERS) return `at most ${MAX_PUBLISHERS} publishers`;
  if (o.windows.length === 0 || o.windows.some((w) => !Number.isInteger(w) || w < 1 || w > 1_000_000)) return 'windows must be integers in 1..1000000';
  if (o.subscribers > 19_000) return 'fanout keeps every subscriber in this process (20k open files): at most 19000 subscribers';
  const perWorker = Math.ceil(o.subscribers / o.workers) * o.subChannels * o.publishers;
  if (perWorker > 20_000_000) return 'subscribers × channels per subscriber × publishers is too large for the stream tables';
  return null;
}

interface Shared {
  published: Int32Array;
  minReceived: Int32Array;
  ctrl: Int32Array;
  counters: Float64Array;
  workers: number;
  channels: number;
}

function globalMin(s: Shared, c: number): number {
  let m = NO_SUBSCRIBER;
  for (let w = 0; w < s.workers; w++) {
    const v = Atomics.load(s.minReceived, w * s.channels + c);
    if (v < m) m = v;
  }
  return m;
}

function counterSum(s: Shared, slot: number): number {
  let sum = 0;
  for (let w = 0; w < s.workers; w++) sum += s.counters[w * COUNTER_SLOTS + slot]!;
  return sum;
}

class Publisher {
  private cursor = 0;
  private readonly seq: Int32Array;
  private blockedOnDrain = false;
  /** Fixed-rate mode: µs between this publisher's publications (0: closed loop), next due time. */
  periodUs = 0;
  nextDueUs = 0;

  constructor(
    readonly index: number,
    private readonly conn: PublisherConn,
    private readonly channels: readonly number[],
    private readonly names: readonly string[],
    private readonly template: Buffer,
  ) {
    this.seq = new Int32Array(channels.length);
  }

  /**
   * Sends what the window and the budget allow (at most MAX_BURST) — in fixed-rate mode only the
   * publications due by `nowUs`; returns how many.
   */
  pump(s: Shared, window: number, budget: { remaining: number }, kick: () => void, now = 0): number {
    if (this.blockedOnDrain) return 0;
    const n = this.channels.length;
    const fixed = this.periodUs > 0;
    let sent = 0;
    let blocked = 0;
    while (blocked < n && budget.remaining > 0 && sent < MAX_BURST && (!fixed || this.nextDueUs <= now)) {
      const i = this.cursor;
      this.cursor = i + 1 === n ? 0 : i + 1;
      const c = this.channels[i]!;
      const p = s.published[c]!;
      const m = globalMin(s, c);
      // A channel whose subscribers all left gets nothing more (it would only flood the server).
      if (m === NO_SUBSCRIBER || p - m >= window) {
        blocked++;
        continue;
      }
      blocked = 0;
      const seq = (this.seq[i] = this.seq[i]! + 1);
      const payload = Buffer.from(this.template);
      let stamp: number;
      if (fixed) {
        stamp = this.nextDueUs;
        this.nextDueUs += this.periodUs;
      } else stamp = nowUs();
      stampPayload(payload, 0, c, this.index, seq, stamp);
      this.conn.publish(this.names[i]!, payload);
      Atomics.store(s.published, c, p + 1);
      sent++;
      budget.remaining--;
      if (this.conn.bufferedAmount > PUBLISHER_HIGH_WATER) {
        this.blockedOnDrain = true;
        this.conn.onceDrain(() => {
          this.blockedOnDrain = false;
          kick();
        });
        break;
      }
    }
    return sent;
  }

  close(): void {
    this.conn.close();
  }
}

function isMsg<T extends FromWorker['type']>(type: T) {
  return (m: unknown): m is Extract<FromWorker, { type: T }> => (m as { type?: string }).type === type;
}

async function askAll<T extends FromWorker['type']>(workers: Worker[], msg: ToWorker, reply: T, timeoutMs: number): Promise<Extract<FromWorker, { type: T }>[]> {
  const waits = workers.map((w) => nextMessage(w, isMsg(reply), timeoutMs, reply));
  for (const w of workers) w.postMessage(msg);
  return Promise.all(waits);
}

function sumLoss(all: LossStats[]): LossStats {
  const out: LossStats = { lost: 0, subscribersWithLoss: 0, duplicates: 0, disorder: 0, malformed: 0, disconnected: 0 };
  const worst = all.flatMap((s) => s.worstSubscribers ?? []);
  worst.sort((a, b) => b.lost + b.duplicates + b.disorder - (a.lost + a.duplicates + a.disorder));
  if (worst.length > 0) out.worstSubscribers = worst.slice(0, MAX_LISTED_SUBSCRIBERS);
  for (const s of all) {
    out.lost += s.lost;
    out.subscribersWithLoss += s.subscribersWithLoss;
    out.duplicates += s.duplicates;
    out.disorder += s.disorder;
    out.malformed += s.malformed;
    out.disconnected += s.disconnected;
  }
  return out;
}

function lossDelta(now: LossStats, before: LossStats): LossStats {
  // lost and subscribersWithLoss are states at the end of the phase (everything published so far);
  // the others are counters.
  return {
    lost: now.lost,
    subscribersWithLoss: now.subscribersWithLoss,
    duplicates: now.duplicates - before.duplicates,
    disorder: now.disorder - before.disorder,
    malformed: now.malformed - before.malformed,
    disconnected: now.disconnected - before.disconnected,
    // Per-subscriber figures are cumulative over the run (listed only when there is something).
    ...(now.worstSubscribers ? { worstSubscribers: now.worstSubscribers } : {}),
  };
}

/** Runs the fanout scenario against one target. */
export async function runFanoutOn(factory: TargetFactory, o: FanoutOptions): Promise<FanoutResult[] | SkippedRun> {
  const why = supports(factory, 'fanout');
  if (why) return { target: factory.name, skipped: why };
  const maxWindow = Math.max(...o.windows);
  return withTarget(factory, { ...o, maxWindow }, (t) => runAgainst(factory, t, o, maxWindow));
}

async function runAgainst(factory: TargetFactory, target: RunningTarget, o: FanoutOptions, maxWindow: number): Promise<FanoutResult[]> {
  const nWorkers = Math.max(1, Math.min(o.workers, o.subscribers));
  const s: Shared = {
    published: new Int32Array(new SharedArrayBuffer(4 * o.channels)),
    minReceived: new Int32Array(new SharedArrayBuffer(4 * o.channels * nWorkers)),
    ctrl: new Int32Array(new SharedArrayBuffer(4 * CTRL_SLOTS)),
    counters: new Float64Array(new SharedArrayBuffer(8 * COUNTER_SLOTS * nWorkers)),
    workers: nWorkers,
    channels: o.channels,
  };
  const workers: Worker[] = [];
  const publishers: Publisher[] = [];
  const name = `${factory.name}`;
  try {
    // 1. Subscribers, spread over worker threads.
    o.log(`[${name}] connecting ${o.subscribers} subscribers over ${nWorkers} worker thread(s)…`);
    for (let w = 0; w < nWorkers; w++) {
      const { from, to } = workerRange(o.subscribers, nWorkers, w);
      const wd: FanoutWorkerData = {
        workerIndex: w,
        clockBase: clockBase(),
        driverModule: target.driverModule,
        endpoint: target.endpoint,
        format: target.format,
        subscribers: o.subscribers,
        channels: o.channels,
        subChannels: o.subChannels,
        publishers: o.publishers,
        payloadSize: o.payloadSize,
        from,
        to,
        ringSize: nextPow2(maxWindow + 2),
        connectConcurrency: o.connectConcurrency,
        published: s.published.buffer as SharedArrayBuffer,
        minReceived: s.minReceived.buffer as SharedArrayBuffer,
        ctrl: s.ctrl.buffer as SharedArrayBuffer,
        counters: s.counters.buffer as SharedArrayBuffer,
      };
      workers.push(startTsWorker(new URL('./worker.ts', import.meta.url).href, wd));
    }
    const connectTimeout = 30_000 + o.subscribers * 10;
    const t0 = performance.now();
    const connecting = setInterval(() => {
      o.log(`[${name}] ${((performance.now() - t0) / 1000).toFixed(0)}s connected ${counterSum(s, COUNTER_CONNECTED)}/${o.subscribers}`);
    }, 1000);
    let ready;
    try {
      ready = await Promise.all(workers.map((w) => nextMessage(w, isMsg('ready'), connectTimeout, 'subscriber connections')));
    } finally {
      clearInterval(connecting);
    }
    const failed = ready.reduce((n, r) => n + r.failed, 0);
    if (failed > 0) {
      const first = ready.find((r) => r.firstError)?.firstError ?? 'unknown error';
      throw new Error(`${failed} of ${o.subscribers} subscribers failed to connect: ${first}`);
    }

    // 2. Publishers, in this thread.
    const mod = (await import(target.driverModule)) as { createDriver: CreateDriver };
    const driver = mod.createDriver(target.endpoint, { format: target.format });
    const template = payloadTemplate(o.payloadSize);
    for (let j = 0; j < o.publishers; j++) {
      const chans = publisherChannels(o, j);
      publishers.push(new Publisher(j, await driver.publisher(), chans, chans.map((c) => driver.channelName(c)), template));
    }

    // 3. One closed-loop phase per window, then the fixed-rate phase.
    const meter = new Meter(target.processes);
    const results: FanoutResult[] = [];
    let lossBefore: LossStats = sumLoss([]);
    const rates = o.rates ?? [];
    if (rates.length === 0 || rates.some((r) => 'peakFraction' in r)) {
      for (const window of o.windows) {
        const r = await runPhase(name, target, o, s, workers, publishers, meter, window, lossBefore, null);
        lossBefore = r.lossTotal;
        results.push(r.result);
      }
    }
    const closedLoop = results.filter((r) => r.ended !== 'stalled');
    const peak = Math.max(0, ...closedLoop.map((r) => (r.seconds > 0 ? r.published / r.seconds : 0)));
    for (const rate of rates) {
      let perSecond: number;
      let spec: string;
      if ('peakFraction' in rate) {
        perSecond = peak * rate.peakFraction;
        spec = `${+(rate.peakFraction * 100).toFixed(2)}%`;
        o.log(`[${name}] fixed-rate phase: ${spec} of the peak publish rate ${fmtRate(peak)}/s = ${fmtRate(perSecond)}/s`);
      } else {
        perSecond = rate.perSecond;
        spec = `${fmtRate(perSecond)}/s`;
      }
      if (perSecond <= 0) {
        o.log(`[${name}] no fixed-rate phase ${spec}: no closed-loop phase published anything`);
        continue;
      }
      const r = await runPhase(name, target, o, s, workers, publishers, meter, maxWindow, lossBefore, { perSecond, spec });
      lossBefore = r.lossTotal;
      results.push(r.result);
    }
    return results;
  } finally {
    for (const p of publishers) p.close();
    await Promise.all(
      workers.map(async (w) => {
        try {
          await askAll([w], { type: 'close' }, 'closed', 5000);
        } finally {
          await w.terminate();
        }
      }),
    );
  }
}

async function runPhase(
  name: string,
  target: RunningTarget,
  o: FanoutOptions,
  s: Shared,
  workers: Worker[],
  publishers: Publisher[],
  meter: Meter,
  window: number,
  lossBefore: LossStats,
  rate: { perSecond: number; spec: string } | null,
): Promise<{ result: FanoutResult; lossTotal: LossStats }> {
  const tag = rate === null ? `[${name} W=${window}]` : `[${name} rate ${rate.spec}]`;
  const budget = { remaining: o.messages > 0 ? o.messages : Number.POSITIVE_INFINITY };
  const publishedAtStart = s.published.reduce((a, b) => a + b, 0);
  const start = performance.now();
  const warmupEnd = start + o.warmupMs;
  const end = warmupEnd + o.durationMs;
  type Mark = { snap: MeterSnapshot; delivered: number; frames: number; published: number };
  const mark = (): Mark => {
    // Workers reset their latency histograms: latency covers what was received from here on.
    for (const w of workers) w.postMessage({ type: 'measure-start' } satisfies ToWorker);
    return {
      snap: meter.snapshot(),
      delivered: counterSum(s, COUNTER_DELIVERED),
      frames: counterSum(s, COUNTER_FRAMES),
      published: s.published.reduce((a, b) => a + b, 0),
    };
  };
  const phaseStart = mark();
  let measureStart: Mark | null = o.warmupMs <= 0 ? phaseStart : null;
  const markMeasureStart = () => {
    measureStart = mark();
  };

  // Progress, one line per second.
  let last = { t: performance.now(), delivered: counterSum(s, COUNTER_DELIVERED), published: publishedAtStart, snap: meter.snapshot() };
  const ticker = setInterval(() => {
    const now = { t: performance.now(), delivered: counterSum(s, COUNTER_DELIVERED), published: s.published.reduce((a, b) => a + b, 0), snap: meter.snapshot() };
    const sec = (now.t - last.t) / 1000;
    const u = meter.usage(last.snap, now.snap);
    const phase = measureStart ? 'measure' : 'warmup';
    o.log(
      `${tag} ${((now.t - start) / 1000).toFixed(0)}s ${phase}  delivered ${fmtRate((now.delivered - last.delivered) / sec)}/s  ` +
        `published ${fmtRate((now.published - last.published) / sec)}/s  server cpu ${fmtPct(u.serverCpuPercent)} rss ${fmtBytes(u.serverRssBytes)}  ` +
        `generator cpu ${fmtPct(u.generatorCpuPercent)}`,
    );
    last = now;
  }, 1000);

  let ended: FanoutResult['ended'] = 'time';
  let measureEnd: Mark | null = null;
  const snapEnd = () => ({
    snap: meter.snapshot(),
    delivered: counterSum(s, COUNTER_DELIVERED),
    frames: counterSum(s, COUNTER_FRAMES),
    published: s.published.reduce((a, b) => a + b, 0),
  });
  try {
    // Publish until time, budget or a stall ends the phase.
    let lastDelivered = counterSum(s, COUNTER_DELIVERED);
    let lastProgress = performance.now();
    let kicked = false;
    const kick = () => {
      kicked = true;
      Atomics.add(s.ctrl, CTRL_WAKE, 1);
      Atomics.notify(s.ctrl, CTRL_WAKE);
    };
    // Fixed rate: publisher j of P sends every P/rate s, the publishers staggered evenly.
    for (const [j, p] of publishers.entries()) {
      p.periodUs = rate === null ? 0 : (1e6 * publishers.length) / rate.perSecond;
      p.nextDueUs = nowUs() + (p.periodUs * j) / publishers.length;
    }
    const nextDueMs = (): number => {
      let due = Number.POSITIVE_INFINITY;
      for (const p of publishers) if (p.nextDueUs < due) due = p.nextDueUs;
      return (due - nowUs()) / 1000;
    };
    for (;;) {
      const now = performance.now();
      if (!measureStart && now >= warmupEnd) markMeasureStart();
      if (now >= end) break;
      if (budget.remaining <= 0) {
        ended = 'messages';
        break;
      }
      const d = counterSum(s, COUNTER_DELIVERED);
      if (d !== lastDelivered) {
        lastDelivered = d;
        lastProgress = now;
      } else if (now - lastProgress > o.stallTimeoutMs) {
        ended = 'stalled';
        o.log(`${tag} stalled: nothing delivered for ${o.stallTimeoutMs} ms`);
        break;
      }
      let sent = 0;
      const t = rate === null ? 0 : nowUs();
      for (const p of publishers) sent += p.pump(s, window, budget, kick, t);
      if (sent > 0) {
        lastProgress = now;
        // Let the sockets flush (writes are corked until the next tick) and I/O run.
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      // Blocked on windows (or, at a fixed rate, nothing due yet): sleep until a worker raises a
      // minimum, the next publication is due, or 20 ms pass.
      Atomics.store(s.ctrl, CTRL_WAITING, 1);
      const v = Atomics.load(s.ctrl, CTRL_WAKE);
      kicked = false;
      let again = 0;
      const t2 = rate === null ? 0 : nowUs();
      for (const p of publishers) again += p.pump(s, window, budget, kick, t2);
      if (again > 0 || kicked) {
        Atomics.store(s.ctrl, CTRL_WAITING, 0);
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      // A publication already due and not sent is held back by its window: wait for a worker.
      const due = rate === null ? 0 : nextDueMs();
      const sleepMs = due <= 0 ? 20 : Math.min(20, due);
      const res = waitAsync(s.ctrl, CTRL_WAKE, v, sleepMs);
      if (res.async) await res.value;
      else await new Promise<void>((r) => setImmediate(r));
    }
    for (const p of publishers) p.periodUs = 0;
    if (ended !== 'messages') measureEnd = snapEnd();

    // Drain: wait until every live subscriber has everything, or nothing moves for drainTimeout.
    let drained = false;
    let lastDelivered2 = counterSum(s, COUNTER_DELIVERED);
    let lastMove = performance.now();
    for (;;) {
      let behind = false;
      for (let c = 0; c < o.channels && !behind; c++) {
        const m = globalMin(s, c);
        if (m !== NO_SUBSCRIBER && m < s.published[c]!) behind = true;
      }
      if (!behind) {
        drained = true;
        break;
      }
      const d = counterSum(s, COUNTER_DELIVERED);
      const now = performance.now();
      if (d !== lastDelivered2) {
        lastDelivered2 = d;
        lastMove = now;
      } else if (now - lastMove > o.drainTimeoutMs) break;
      Atomics.store(s.ctrl, CTRL_WAITING, 1);
      const v = Atomics.load(s.ctrl, CTRL_WAKE);
      const res = waitAsync(s.ctrl, CTRL_WAKE, v, 20);
      if (res.async) await res.value;
    }
    Atomics.store(s.ctrl, CTRL_WAITING, 0);
    if (!drained) o.log(`${tag} not every message arrived within ${o.drainTimeoutMs} ms after publishing stopped`);
    if (measureEnd === null) measureEnd = snapEnd();
    if (measureStart === null) {
      o.log(`${tag} the message budget ran out during warm-up: measured from the start of the phase`);
      measureStart = phaseStart;
    }
    const ms: Mark = measureStart;

    const hists = await askAll(workers, { type: 'measure-stop' }, 'histogram', 10_000);
    const h = new Histogram();
    for (const m of hists) h.merge(Histogram.fromJSON(m.histogram));
    const losses = await askAll(workers, { type: 'loss' }, 'loss', 10_000);
    const lossTotal = sumLoss(losses.map((m) => m.stats));

    const usage = meter.usage(ms.snap, measureEnd.snap);
    const delivered = measureEnd.delivered - ms.delivered;
    const frames = measureEnd.frames - ms.frames;
    const serverCpuSeconds = (usage.serverCpuPercent / 100) * usage.seconds;
    const result: FanoutResult = {
      target: name,
      format: target.format,
      window,
      ...(rate === null ? {} : { rate: rate.perSecond, rateSpec: rate.spec }),
      subscribers: o.subscribers,
      channels: o.channels,
      subChannels: o.subChannels,
      publishers: o.publishers,
      payloadSize: o.payloadSize,
      seconds: usage.seconds,
      published: measureEnd.published - ms.published,
      delivered,
      deliveredPerSecond: usage.seconds > 0 ? delivered / usage.seconds : 0,
      framesPerSecond: usage.seconds > 0 ? frames / usage.seconds : 0,
      messagesPerFrame: frames > 0 ? delivered / frames : 0,
      latencyUs: h.summary(),
      server: usage.server,
      serverCpuPercent: usage.serverCpuPercent,
      deliveriesPerServerCpuSecond: serverCpuSeconds > 0 ? delivered / serverCpuSeconds : 0,
      serverRssBytes: usage.serverRssBytes,
      generatorCpuPercent: usage.generatorCpuPercent,
      generatorThreads: workers.length + 1,
      ended,
      drained,
      loss: lossDelta(lossTotal, lossBefore),
    };
    const disc = counterSum(s, COUNTER_DISCONNECTED);
    if (disc > 0) o.log(`${tag} ${disc} subscriber(s) disconnected so far`);
    return { result, lossTotal };
  } finally {
    clearInterval(ticker);
  }
}

export async function runFanout(factories: TargetFactory[], o: FanoutOptions): Promise<(FanoutResult | SkippedRun)[]> {
  const out: (FanoutResult | SkippedRun)[] = [];
  for (const f of factories) {
    try {
      const r = await runFanoutOn(f, o);
      if (isSkipped(r)) {
        o.log(`[${f.name}] skipped: ${r.skipped}`);
        out.push(r);
      } else out.push(...r);
    } catch (err) {
      o.log(`[${f.name}] failed: ${(err as Error).message}`);
      out.push({ target: f.name, skipped: `failed: ${(err as Error).message}` });
    }
  }
  return out;
}
