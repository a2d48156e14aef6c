// What the connect scenario's main thread and its generator workers share: the worker's start-up
// data, the layout of the shared control and counter arrays, and the messages.
import type { Endpoint } from '../../target.ts';
import type { SerializedHistogram } from '../../lib/histogram.ts';

/** ctrl (Int32Array) slots. */
export const CTRL_PHASE = 0;
/** Attempts started in the measurement phase, over every worker (for --connects). */
export const CTRL_STARTED = 1;
export const CTRL_SLOTS = 2;

export const PHASE_WARMUP = 0;
export const PHASE_MEASURE = 1;
export const PHASE_STOP = 2;

/** counters (Float64Array) slots per worker, written by that worker only. */
export const COUNTER_OK = 0;
export const COUNTER_FAILED = 1;
export const COUNTER_SLOTS = 2;

export interface ConnectWorkerData {
  workerIndex: number;
  workers: number;
  driverModule: string;
  endpoint: Endpoint;
  format: string;
  /** Connection attempts this worker keeps in flight. */
  lanes: number;
  channels: number;
  /** Measured attempts over every worker (Infinity: time only). */
  limit: number;
  /** Spread source addresses over 127.0.0.0/8 (the target listens on 127.0.0.1). */
  spread: boolean;
  ctrl: SharedArrayBuffer;
  counters: SharedArrayBuffer;
}

export type ToConnectWorker = { type: 'start' };

export type FromConnectWorker =
  | { type: 'ready' }
  | { type: 'done'; ok: number; failed: number; firstError: string | null; histogram: SerializedHistogram };
