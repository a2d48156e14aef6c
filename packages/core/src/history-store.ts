// HistoryStore: the recent stream of each channel (offset + epoch), the source of recovery.
//
// Implementations: MemoryHistoryStore (embedded mode, unit tests), the history shard's
// JetStream-backed store (@rotor/history) and the shard client used by gateways and the api in
// cluster mode (requests over NATS to the owning shard).
//
// Invariants (tested by the history-store contract suite):
// - Offsets start at 1 in a new epoch and grow by exactly 1 per accepted append: contiguous, no
//   reuse. The epoch is an opaque non-empty string that changes whenever continuity cannot be
//   proven (the stream was lost, its meta expired, or it was removed); a new epoch restarts at 1.
// - The single-writer rule: one store instance sequences a channel. Appends for the same channel
//   resolve in offset order, so a caller that forwards each result to the broker inside its
//   continuation forwards them in offset order.
// - Retention: at most `history.size` publications; publications older than `history.ttlMs` are
//   not returned; the stream meta (epoch + top offset) survives `history.metaTtlMs` after the last
//   append, so a client that comes back within it is told exactly what it missed or that it
//   cannot be recovered — never given a partial history as complete.
// - Idempotency: an append with an `idempotencyKey` already accepted for the same channel within
//   `idempotencyTtlMs` stores nothing and returns the first append's result with duplicate=true.
// - Reads never invent positions: `position` is the current top of the stream (offset 0 when
//   nothing was ever appended in this epoch).
import type { ClientInfo, HistoryOptions, Publication, StreamPosition } from './types.ts';

export interface AppendRequest {
  channel: string;
  data: Uint8Array;
  info?: ClientInfo;
  tags?: Record<string, string>;
  /** Retention settings from the channel's namespace. */
  history: HistoryOptions;
  idempotencyKey?: string;
  /** Window for `idempotencyKey`; Centrifugo's default is 5 minutes. */
  idempotencyTtlMs?: number;
}

export interface AppendResult {
  /** The stored publication with its offset and time. */
  publication: Publication;
  /** Epoch and offset of this publication (for a duplicate: of the original one). */
  position: StreamPosition;
  /** True when `idempotencyKey` matched an earlier append and nothing was stored. */
  duplicate: boolean;
}

export interface ReadRequest {
  channel: string;
  /**
   * Read after this position (forward) or before it (reverse). When `since.epoch` is non-empty
   * and differs from the current epoch, the result has no publications and the current position;
   * the caller detects the mismatch by comparing epochs (client history answers 112, recovery
   * reports recovered=false).
   */
  since?: StreamPosition;
  /** 0: no publications, only the position; -1: all retained; n > 0: at most n. */
  limit: number;
  /** Newest first. */
  reverse: boolean;
  /** Meta lifetime of the channel's namespace; reading an unknown stream creates its meta. */
  metaTtlMs: number;
}

export interface ReadResult {
  /** Ascending by offset unless `reverse`. */
  publications: Publication[];
  /** The current top of the stream. */
  position: StreamPosition;
}

export interface HistoryStore {
  append(req: AppendRequest): Promise<AppendResult>;
  read(req: ReadRequest): Promise<ReadResult>;
  /** Drops a channel's publications (history_remove). The epoch and top offset are kept. */
  remove(channel: string): Promise<void>;
  close(): Promise<void>;
}
