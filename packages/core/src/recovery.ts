// Recovery and positioning decisions for the gateway (PROTOCOL.md §4.5), as pure functions.
//
// The subscribe flow they support: the gateway starts buffering live publications of the channel,
// reads history (since the client's position when it recovers, a limit-0 read for the top when it
// only positions), then calls `subscribePosition` with the read and the buffered publications.
// The answer says whether the client recovered, which publications go inside the subscribe reply,
// which offset the reply carries and which offset the subscription then tracks — or `null` when
// the read and the live publications do not join up, in which case the subscription is in
// "insufficient state" (unsubscribe 2500 for client-side subs, disconnect 3010 for server-side).
// After the reply, every live publication goes through `livePosition`.
import type { ReadRequest, ReadResult } from './history-store.ts';
import type { Publication, StreamPosition } from './types.ts';

/**
 * Whether a stream recovery read proves the client missed nothing else:
 * the epochs match (an empty requested epoch matches any), and either nothing was returned and the
 * top equals the client's offset, or the returned publications start right after the client's
 * offset and end at the top. A read that returned more than `limit` publications (limit > 0) does
 * not count: the gateway promised at most `recovery_max_publication_limit`.
 */
export function isStreamRecovered(requested: StreamPosition, read: ReadResult, limit = -1): boolean {
  const top = read.position;
  if (requested.epoch !== '' && requested.epoch !== top.epoch) return false;
  const pubs = read.publications;
  if (pubs.length === 0) return top.offset === requested.offset;
  if (limit > 0 && pubs.length > limit) return false;
  return (pubs[0] as Publication).offset === requested.offset + 1 && (pubs[pubs.length - 1] as Publication).offset === top.offset;
}

/** The history read a stream recovery needs: forward, since the client's position, at most `limit` (<= 0: all). */
export function recoveryRead(channel: string, requested: StreamPosition, limit: number, metaTtlMs: number): ReadRequest {
  return { channel, since: { offset: requested.offset, epoch: requested.epoch }, limit: limit > 0 ? limit : -1, reverse: false, metaTtlMs };
}

export interface MergeResult {
  /** Ascending, without duplicates. */
  publications: Publication[];
  /** Highest offset among the merged publications (0 when none). */
  maxSeenOffset: number;
  /** False when the merged sequence has a hole: the subscription cannot be positioned. */
  contiguous: boolean;
}

/**
 * Merges publications read from history with live ones that arrived while the read was in
 * flight. Both inputs are ascending by offset (history by contract, live in arrival order, which
 * the broker keeps per channel) and of the same epoch — the caller drops live publications of
 * another epoch or treats them as insufficient state. Duplicates (same offset) are kept once.
 */
export function mergePublications(recovered: Publication[], live: Publication[]): MergeResult {
  if (live.length === 0) {
    const last = recovered[recovered.length - 1];
    return { publications: recovered, maxSeenOffset: last ? last.offset : 0, contiguous: true };
  }
  const out: Publication[] = [];
  let i = 0;
  let j = 0;
  let lastOffset = 0;
  let contiguous = true;
  while (i < recovered.length || j < live.length) {
    const a = recovered[i];
    const b = live[j];
    let next: Publication;
    if (a !== undefined && (b === undefined || a.offset <= b.offset)) {
      next = a;
      i++;
    } else {
      next = b as Publication;
      j++;
    }
    if (out.length > 0 && next.offset <= lastOffset) continue; // duplicate (or stale)
    if (out.length > 0 && next.offset !== lastOffset + 1) contiguous = false;
    out.push(next);
    lastOffset = next.offset;
  }
  return { publications: out, maxSeenOffset: lastOffset, contiguous };
}

export interface SubscribePositionInput {
  /** The client's position when it asked to recover (recover=true, recovery allowed); else null. */
  requested: StreamPosition | null;
  /** The history read: `recoveryRead(...)` when recovering, a limit-0 read otherwise. */
  read: ReadResult;
  /** Live publications buffered while the read was in flight (same epoch as the read), ascending. */
  live: Publication[];
  /** recovery_max_publication_limit (<= 0: unlimited). */
  limit: number;
}

export interface SubscribePosition {
  recovered: boolean;
  /** For SubscribeResult.publications: the recovered ones (ascending) when recovered, else []. */
  publications: Publication[];
  /** For SubscribeResult.offset: the client's requested offset when recovered, else the top. */
  offset: number;
  /** For SubscribeResult.epoch: the current epoch. */
  epoch: string;
  /**
   * The position the subscription tracks from now on: the highest offset the client has (or is
   * being given), so the next live publication must be exactly streamOffset + 1.
   */
  streamOffset: number;
}

/**
 * Decides the subscribe reply's recovery fields and the subscription's tracked position.
 * Returns null when the read and the buffered live publications leave a hole (insufficient state).
 */
export function subscribePosition(input: SubscribePositionInput): SubscribePosition | null {
  const { requested, read, live, limit } = input;
  const recovered = requested !== null && isStreamRecovered(requested, read, limit);
  const merged = mergePublications(recovered ? read.publications : [], live);
  if (!merged.contiguous) return null;
  let streamOffset = read.position.offset;
  if (merged.maxSeenOffset > streamOffset) streamOffset = merged.maxSeenOffset;
  if (recovered && requested !== null) {
    // Publications at or below the client's offset (a live one that raced) are not resent.
    const pubs = merged.publications;
    let k = 0;
    while (k < pubs.length && (pubs[k] as Publication).offset <= requested.offset) k++;
    const publications = k === 0 ? pubs : pubs.slice(k);
    if (publications.length > 0 && (publications[0] as Publication).offset !== requested.offset + 1) return null;
    return { recovered: true, publications, offset: requested.offset, epoch: read.position.epoch, streamOffset };
  }
  return { recovered: false, publications: [], offset: streamOffset, epoch: read.position.epoch, streamOffset };
}

/**
 * Cache recovery (force_recovery_mode: cache): only the latest publication matters. `latest` is the
 * newest retained publication (a reverse read with limit 1), `top` the current position.
 * Recovered when the latest publication is the top; it is returned unless the client already has
 * exactly that position.
 */
export function cacheRecovery(
  requested: StreamPosition,
  latest: Publication | null,
  top: StreamPosition,
): { recovered: boolean; publications: Publication[] } {
  const sameState = requested.offset > 0 && requested.offset === top.offset && requested.epoch === top.epoch;
  if (latest === null) return { recovered: sameState, publications: [] };
  const recovered = latest.offset === top.offset;
  return { recovered, publications: recovered && !sameState ? [latest] : [] };
}

/** What to do with a live publication on a positioned subscription. */
export const LiveVerdict = {
  /** Offset 0 (published without history): deliver, position unchanged. */
  unpositioned: 0,
  /** Exactly the next offset: deliver and advance the tracked offset to it. */
  next: 1,
  /** Offset at or below the tracked one, same epoch: a late duplicate; drop silently. */
  stale: 2,
  /** A gap or another epoch: insufficient state (unsubscribe 2500 / disconnect 3010). */
  insufficient: 3,
} as const;
export type LiveVerdict = (typeof LiveVerdict)[keyof typeof LiveVerdict];

/** Classifies a live publication against the subscription's tracked position. */
export function livePosition(trackedOffset: number, trackedEpoch: string, pubOffset: number, pubEpoch: string): LiveVerdict {
  if (pubOffset === 0) return LiveVerdict.unpositioned;
  if (pubEpoch !== trackedEpoch) return LiveVerdict.insufficient;
  if (pubOffset === trackedOffset + 1) return LiveVerdict.next;
  return pubOffset <= trackedOffset ? LiveVerdict.stale : LiveVerdict.insufficient;
}
