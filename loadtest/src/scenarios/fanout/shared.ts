// Memory shared between the publishers (main thread) and the subscriber workers, and the messages
// they exchange.
//
// Flow control: `published[c]` is how many messages the publishers have sent on channel c;
// `minReceived[w·C + c]` is the fewest of them any live subscriber of worker w has received
// (INT32_MAX when w has no live subscriber on c). A publisher may send on c while
// published[c] − minᵥ minReceived[w·C + c] < window. A worker that raises a minimum while the main
// thread waits (ctrl[WAITING] = 1) bumps ctrl[WAKE] and notifies it.
import type { SerializedHistogram } from '../../lib/histogram.ts';
import type { Endpoint } from '../../target.ts';

export const CTRL_WAITING = 0;
export const CTRL_WAKE = 1;
export const CTRL_SLOTS = 4;

/** Per-worker counters (Float64, written by the worker after every socket read). */
export const COUNTER_DELIVERED = 0;
export const COUNTER_FRAMES = 1;
export const COUNTER_MALFORMED = 2;
export const COUNTER_DISCONNECTED = 3;
/** Subscribers connected and subscribed so far (progress while connecting). */
export const COUNTER_CONNECTED = 4;
export const COUNTER_SLOTS = 5;

export const NO_SUBSCRIBER = 0x7fffffff;

export interface FanoutWorkerData {
  workerIndex: number;
  clockBase: string;
  driverModule: string;
  endpoint: Endpoint;
  format: string;
  subscribers: number;
  channels: number;
  subChannels: number;
  publishers: number;
  payloadSize: number;
  /** This worker's subscribers: [from, to). */
  from: number;
  to: number;
  /** Ring size for the per-channel level counts: a power of two above the largest window. */
  ringSize: number;
  /** Connections opened at once while connecting. */
  connectConcurrency: number;
  published: SharedArrayBuffer;
  minReceived: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
  counters: SharedArrayBuffer;
}

/** One subscriber's anomalies (cumulative over the run). */
export interface SubscriberAnomaly {
  /** Global subscriber index (its channels follow from plan.ts). */
  subscriber: number;
  lost: number;
  duplicates: number;
  disorder: number;
  disconnected: boolean;
}

/** At most this many subscribers with anomalies are listed per report row. */
export const MAX_LISTED_SUBSCRIBERS = 20;

export interface LossStats {
  /** Messages published on a live subscriber's channels and never received by it. */
  lost: number;
  subscribersWithLoss: number;
  duplicates: number;
  /** Messages that arrived after a later one of the same (channel, publisher) stream. */
  disorder: number;
  malformed: number;
  /** Subscribers whose connection closed during the run (their missing messages are not in `lost`). */
  disconnected: number;
  /** The subscribers with the most anomalies (at most MAX_LISTED_SUBSCRIBERS), worst first. */
  worstSubscribers?: SubscriberAnomaly[];
}

export type ToWorker =
  | { type: 'measure-start' }
  | { type: 'measure-stop' }
  | { type: 'loss' }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; connected: number; failed: number; firstError: string | null }
  | { type: 'histogram'; histogram: SerializedHistogram }
  | { type: 'loss'; stats: LossStats }
  | { type: 'closed' };
