// Domain types shared by every service. Plain data, camelCase; the wire forms live in @rotor/proto.

/** Who published or joined: the connection's user and client id plus opaque info payloads. */
export interface ClientInfo {
  /** User id from the connection token (`sub`); empty string for anonymous users. */
  user: string;
  /** Connection id (UUID v4) assigned by the gateway at connect. */
  client: string;
  /** Connection info (`info` / `b64info` claim of the connection token), opaque bytes. */
  connInfo?: Uint8Array;
  /** Channel info (`info` / `b64info` of the subscription token), opaque bytes. */
  chanInfo?: Uint8Array;
}

/** A position in a channel's stream. Offsets start at 1 within an epoch and grow by 1. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

/**
 * A publication as stored and delivered. `data` is opaque: it is never parsed on the delivery
 * path (JSON clients require it to be valid JSON, which the API validates at publish time when the
 * namespace asks for it).
 */
export interface Publication {
  /** Stream offset; 0 for channels without history. */
  offset: number;
  data: Uint8Array;
  /** Publisher info; set for client-side publishes. */
  info?: ClientInfo;
  tags?: Record<string, string>;
  /** Unix milliseconds at which the publication was accepted. */
  time?: number;
}

/** History settings of a channel, resolved from its namespace by the caller. */
export interface HistoryOptions {
  /** Maximum number of publications kept (history_size). */
  size: number;
  /** Publications older than this are dropped (history_ttl), in milliseconds. */
  ttlMs: number;
  /** How long the stream's epoch and top offset survive without publications (history_meta_ttl). */
  metaTtlMs: number;
}

/** A monotonic-enough wall clock in milliseconds; injected so tests can use a fake one. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
