// PresenceStore: who is subscribed to a channel right now, as seen by the gateways.
//
// Implementations: MemoryPresenceStore (embedded mode), the history shard's presence table and its
// NATS client (@rotor/history) in cluster mode.
//
// Invariants (tested by the presence-store contract suite):
// - An entry is keyed by (channel, client id). `add` inserts or refreshes it; the entry disappears
//   `ttlMs` after its last `add` unless refreshed (gateways re-add every presence_update_interval,
//   so a dead gateway's entries age out) or immediately on `remove`.
// - `get` returns live entries only; `stats` counts live clients and distinct users (anonymous
//   users count as one user '').
import type { ClientInfo } from './types.ts';

export interface PresenceStats {
  numClients: number;
  numUsers: number;
}

export interface PresenceStore {
  /** Adds or refreshes `info.client` in `channel` for `ttlMs`. */
  add(channel: string, info: ClientInfo, ttlMs: number): Promise<void>;
  remove(channel: string, client: string): Promise<void>;
  /** Live entries keyed by client id. */
  get(channel: string): Promise<Map<string, ClientInfo>>;
  stats(channel: string): Promise<PresenceStats>;
  close(): Promise<void>;
}
