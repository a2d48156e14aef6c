// Fanout subscriber worker: opens its share of the subscriber connections, decodes every
// publication, and keeps per subscriber (a) per (channel, publisher) stream sequence state for
// loss/duplicate/disorder detection and (b) per channel received counts that feed the publishers'
// closed-loop window through shared memory. Latency is recorded into one histogram per worker.
import { parentPort, workerData } from 'node:worker_threads';
import { Histogram } from '../../lib/histogram.ts';
import { nowUs, setClockBase } from '../../lib/clock.ts';
import { parsePayload, type PayloadHeader } from '../../lib/payload.ts';
import type { CreateDriver, MessageSink, SubscriberConn } from '../../target.ts';
import { channelSlot, subscriberChannels, type FanoutShape } from './plan.ts';
import {
  COUNTER_CONNECTED,
  COUNTER_DELIVERED,
  COUNTER_DISCONNECTED,
  COUNTER_FRAMES,
  COUNTER_MALFORMED,
  COUNTER_SLOTS,
  CTRL_WAITING,
  CTRL_WAKE,
  MAX_LISTED_SUBSCRIBERS,
  NO_SUBSCRIBER,
  type FanoutWorkerData,
  type SubscriberAnomaly,
  type FromWorker,
  type LossStats,
  type ToWorker,
} from './shared.ts';

const data = workerData as FanoutWorkerData;
const port = parentPort!;
setClockBase(data.clockBase);

const shape: FanoutShape = { subscribers: data.subscribers, channels: data.channels, subChannels: data.subChannels, publishers: data.publishers };
const C = data.channels;
const K = data.subChannels;
const P = data.publishers;
const R = data.ringSize;
const RMASK = R - 1;
const local = data.to - data.from;

const published = new Int32Array(data.published);
const minShared = new Int32Array(data.minReceived);
const ctrl = new Int32Array(data.ctrl);
const counters = new Float64Array(data.counters);
const cBase = data.workerIndex * COUNTER_SLOTS;
const mBase = data.workerIndex * C;

// Per (subscriber, slot): unique messages received on that channel.
const received = new Int32Array(local * K);
// Per (subscriber, slot, publisher) stream: highest seq, bitmask of the 32 seqs up to it, gaps
// still open.
const lastSeq = new Int32Array(local * K * P);
const seqMask = new Int32Array(local * K * P);
const openGaps = new Int32Array(local * K * P);
// Per channel: how many live subscribers sit at each received count (ring indexed by count mod R),
// the local minimum, and the number of live subscribers.
const levels = new Int32Array(C * R);
const localMin = new Int32Array(C);
const live = new Int32Array(C);
const alive = new Uint8Array(local);
const everConnected = new Uint8Array(local);
const subDuplicates = new Int32Array(local);
const subDisorder = new Int32Array(local);
const conns: (SubscriberConn | null)[] = new Array<SubscriberConn | null>(local).fill(null);

let delivered = 0;
let frames = 0;
let malformed = 0;
let duplicates = 0;
let disorder = 0;
let disconnected = 0;
let levelsReady = false;
let chunkTime = 0;
const histogram = new Histogram();
const header: PayloadHeader = { channel: 0, publisher: 0, seq: 0, timeUs: 0 };

function publishCounters(): void {
  counters[cBase + COUNTER_DELIVERED] = delivered;
  counters[cBase + COUNTER_FRAMES] = frames;
  counters[cBase + COUNTER_MALFORMED] = malformed;
  counters[cBase + COUNTER_DISCONNECTED] = disconnected;
}

function wakePublishers(): void {
  if (Atomics.load(ctrl, CTRL_WAITING) !== 0) {
    Atomics.store(ctrl, CTRL_WAITING, 0);
    Atomics.add(ctrl, CTRL_WAKE, 1);
    Atomics.notify(ctrl, CTRL_WAKE);
  }
}

/** Raises channel c's minimum past empty levels and publishes it. */
function advanceMin(c: number): void {
  if (live[c] === 0) {
    localMin[c] = NO_SUBSCRIBER;
  } else {
    let m = localMin[c]!;
    const base = c * R;
    for (let guard = 0; guard < R && levels[base + (m & RMASK)] === 0; guard++) m++;
    localMin[c] = m;
  }
  Atomics.store(minShared, mBase + c, localMin[c]!);
  wakePublishers();
}

function onUnique(sub: number, slot: number, c: number): void {
  const i = sub * K + slot;
  const k = received[i]!;
  received[i] = k + 1;
  const base = c * R;
  levels[base + (k & RMASK)]! -= 1;
  levels[base + ((k + 1) & RMASK)]! += 1;
  if (k === localMin[c] && levels[base + (k & RMASK)] === 0) advanceMin(c);
}

function onPayload(sub: number, buf: Uint8Array, start: number, end: number): void {
  if (!parsePayload(buf, start, end, data.payloadSize, header)) {
    counters[cBase + COUNTER_MALFORMED] = ++malformed;
    return;
  }
  const c = header.channel;
  const slot = c < C ? channelSlot(shape, data.from + sub, c) : -1;
  if (slot < 0 || header.publisher >= P) {
    counters[cBase + COUNTER_MALFORMED] = ++malformed;
    return;
  }
  // Written through on every message (a plain store): the main thread's snapshots must not lag.
  counters[cBase + COUNTER_DELIVERED] = ++delivered;
  histogram.record(chunkTime - header.timeUs);
  if (alive[sub] === 0) return;
  const s = (sub * K + slot) * P + header.publisher;
  const seq = header.seq;
  const last = lastSeq[s]!;
  if (seq > last) {
    const shift = seq - last;
    openGaps[s]! += shift - 1;
    seqMask[s] = shift >= 32 ? 1 : (seqMask[s]! << shift) | 1;
    lastSeq[s] = seq;
    onUnique(sub, slot, c);
    return;
  }
  const d = last - seq;
  if (d < 32) {
    const bit = 1 << d;
    if ((seqMask[s]! & bit) !== 0) {
      duplicates++;
      subDuplicates[sub]! += 1;
      return;
    }
    seqMask[s]! |= bit;
  } else if (openGaps[s] === 0) {
    duplicates++;
    subDuplicates[sub]! += 1;
    return;
  }
  disorder++;
  subDisorder[sub]! += 1;
  openGaps[s]! -= 1;
  onUnique(sub, slot, c);
}

function onDisconnect(sub: number): void {
  if (alive[sub] === 0) return;
  alive[sub] = 0;
  disconnected++;
  conns[sub] = null;
  if (!levelsReady) return;
  for (let slot = 0; slot < K; slot++) {
    const c = (((data.from + sub) * K + slot) % C) as number;
    const k = received[sub * K + slot]!;
    levels[c * R + (k & RMASK)]! -= 1;
    live[c]! -= 1;
    if (live[c] === 0 || (k === localMin[c] && levels[c * R + (k & RMASK)] === 0)) advanceMin(c);
  }
  publishCounters();
}

class Sink implements MessageSink {
  constructor(private readonly sub: number) {}
  onChunk(): void {
    chunkTime = nowUs();
  }
  onFrame(): void {
    counters[cBase + COUNTER_FRAMES] = ++frames;
  }
  onPayload(buf: Uint8Array, start: number, end: number): void {
    onPayload(this.sub, buf, start, end);
  }
  onClose(): void {
    onDisconnect(this.sub);
  }
}

function lossStats(): LossStats {
  let lost = 0;
  let withLoss = 0;
  const worst: SubscriberAnomaly[] = [];
  for (let sub = 0; sub < local; sub++) {
    if (everConnected[sub] === 0) continue;
    let missing = 0;
    if (alive[sub] === 1) {
      for (let slot = 0; slot < K; slot++) {
        const c = ((data.from + sub) * K + slot) % C;
        missing += Atomics.load(published, c) - received[sub * K + slot]!;
      }
    }
    if (missing > 0) {
      lost += missing;
      withLoss++;
    }
    if (missing > 0 || subDuplicates[sub]! > 0 || subDisorder[sub]! > 0 || alive[sub] === 0) {
      worst.push({ subscriber: data.from + sub, lost: missing, duplicates: subDuplicates[sub]!, disorder: subDisorder[sub]!, disconnected: alive[sub] === 0 });
    }
  }
  worst.sort((a, b) => b.lost + b.duplicates + b.disorder - (a.lost + a.duplicates + a.disorder));
  return { lost, subscribersWithLoss: withLoss, duplicates, disorder, malformed, disconnected, worstSubscribers: worst.slice(0, MAX_LISTED_SUBSCRIBERS) };
}

async function connectAll(): Promise<{ connected: number; failed: number; firstError: string | null }> {
  const mod = (await import(data.driverModule)) as { createDriver: CreateDriver };
  const driver = mod.createDriver(data.endpoint, { format: data.format });
  let next = 0;
  let connected = 0;
  let failed = 0;
  let firstError: string | null = null;
  const lane = async () => {
    while (next < local) {
      const sub = next++;
      const names = subscriberChannels(shape, data.from + sub).map((c) => driver.channelName(c));
      try {
        alive[sub] = 1;
        conns[sub] = await driver.subscribe(names, new Sink(sub));
        everConnected[sub] = 1;
        counters[cBase + COUNTER_CONNECTED] = ++connected;
      } catch (err) {
        alive[sub] = 0;
        failed++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(data.connectConcurrency, local) }, lane));
  // Every live subscriber starts at count 0 on each of its channels.
  for (let c = 0; c < C; c++) localMin[c] = 0;
  for (let sub = 0; sub < local; sub++) {
    if (alive[sub] === 0) continue;
    for (let slot = 0; slot < K; slot++) {
      const c = ((data.from + sub) * K + slot) % C;
      levels[c * R]! += 1;
      live[c]! += 1;
    }
  }
  for (let c = 0; c < C; c++) {
    if (live[c] === 0) localMin[c] = NO_SUBSCRIBER;
    Atomics.store(minShared, mBase + c, localMin[c]!);
  }
  levelsReady = true;
  return { connected, failed, firstError };
}

function send(m: FromWorker): void {
  port.postMessage(m);
}

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'measure-start':
      histogram.reset();
      return;
    case 'measure-stop':
      send({ type: 'histogram', histogram: histogram.toJSON() });
      return;
    case 'loss':
      publishCounters();
      send({ type: 'loss', stats: lossStats() });
      return;
    case 'close':
      for (let sub = 0; sub < local; sub++) {
        alive[sub] = 0;
        everConnected[sub] = 0;
        conns[sub]?.close();
        conns[sub] = null;
      }
      send({ type: 'closed' });
      return;
  }
});

const result = await connectAll();
publishCounters();
send({ type: 'ready', ...result });
