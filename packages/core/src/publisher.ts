// Publisher: the one way a publication enters the system (server API publish/broadcast and client
// publish both call it).
//
// Implementations: ChannelSequencer (history store + broker in one process: the embedded mode and
// the history shard), and in cluster mode the api's router, which sends a publication that needs
// sequencing (history or idempotency key) to the channel's shard and anything else straight to
// the channel's NATS subject.
//
// Invariants (tested by the publisher contract suite):
// - With `history`, the publication is stored (offset assigned) before it is delivered, and is
//   delivered to the broker in offset order per channel; the result carries its offset and epoch.
// - Without `history`, it is delivered with offset 0 and the result is {offset: 0, epoch: ''}.
// - A repeated `idempotencyKey` for the same channel within the window returns the first result
//   and delivers nothing.
// - A rejected promise means the publication was not accepted (the caller reports an error; with
//   history nothing was stored). Temporary failures carry `temporary: true` (see RotorError).
import type { ClientInfo, HistoryOptions, StreamPosition } from './types.ts';

export interface PublishRequest {
  channel: string;
  data: Uint8Array;
  /** Publisher info for client-side publishes. */
  info?: ClientInfo;
  tags?: Record<string, string>;
  /** Present when the channel keeps history and the caller did not ask to skip it. */
  history?: HistoryOptions;
  idempotencyKey?: string;
  /** Window for `idempotencyKey` (default 5 minutes). */
  idempotencyTtlMs?: number;
}

/** Offset and epoch of the accepted publication; {0, ''} without history. */
export type PublishResult = StreamPosition;

export interface Publisher {
  publish(req: PublishRequest): Promise<PublishResult>;
}
