// Connect generator worker: runs its share of the connection lanes. Each attempt is a full
// connection through the target's driver (TCP connect, WebSocket upgrade, the target's handshake —
// for Rotor the connect command with a JWT — and one acknowledged subscribe), then a TCP reset.
// The phase is read from shared memory before every attempt; an attempt counts when it started in
// the measurement phase. Counters are written through to shared memory for the per-second lines.
import { parentPort, workerData } from 'node:worker_threads';
import { Histogram } from '../../lib/histogram.ts';
import type { CreateDriver, MessageSink } from '../../target.ts';
import {
  COUNTER_FAILED,
  COUNTER_OK,
  COUNTER_SLOTS,
  CTRL_PHASE,
  CTRL_STARTED,
  PHASE_MEASURE,
  PHASE_STOP,
  type ConnectWorkerData,
  type FromConnectWorker,
  type ToConnectWorker,
} from './shared.ts';

const data = workerData as ConnectWorkerData;
const port = parentPort!;
const ctrl = new Int32Array(data.ctrl);
const counters = new Float64Array(data.counters);
const cBase = data.workerIndex * COUNTER_SLOTS;
const noopSink: MessageSink = { onChunk: () => undefined, onFrame: () => undefined, onPayload: () => undefined, onClose: () => undefined };

const mod = (await import(data.driverModule)) as { createDriver: CreateDriver };
const driver = mod.createDriver(data.endpoint, { format: data.format });
const channelNames = Array.from({ length: data.channels }, (_, i) => [driver.channelName(i)]);
const histogram = new Histogram();
let ok = 0;
let failed = 0;
let firstError: string | null = null;
// Source addresses spread over 127.x.y.z (every worker its own residue class), so the ephemeral
// ports of one address never run out.
let attempt = 0;

function localAddress(): string | undefined {
  if (!data.spread) return undefined;
  const i = attempt++ * data.workers + data.workerIndex;
  return `127.${1 + ((i >> 16) & 127)}.${(i >> 8) & 255}.${(i & 255) | 1}`;
}

async function lane(): Promise<void> {
  for (;;) {
    const phase = Atomics.load(ctrl, CTRL_PHASE);
    if (phase === PHASE_STOP) return;
    const record = phase === PHASE_MEASURE;
    if (record && Atomics.add(ctrl, CTRL_STARTED, 1) >= data.limit) return;
    const channels = channelNames[attempt % data.channels]!;
    const t0 = performance.now();
    try {
      const conn = await driver.subscribe(channels, noopSink, { localAddress: localAddress() });
      conn.abort();
      if (record) {
        histogram.record((performance.now() - t0) * 1000);
        counters[cBase + COUNTER_OK] = ++ok;
      }
    } catch (err) {
      if (record) counters[cBase + COUNTER_FAILED] = ++failed;
      firstError ??= (err as Error).message;
    }
  }
}

function send(m: FromConnectWorker): void {
  port.postMessage(m);
}

let lanes: Promise<void[]> | null = null;
port.on('message', (m: ToConnectWorker) => {
  if (m.type !== 'start' || lanes) return;
  lanes = Promise.all(Array.from({ length: data.lanes }, lane));
  void lanes.then(() => send({ type: 'done', ok, failed, firstError, histogram: histogram.toJSON() }));
});

// Client-side set-up that is not part of a connection (e.g. signing the tokens the connections
// present) happens before the run starts.
await driver.prepare?.();
send({ type: 'ready' });
