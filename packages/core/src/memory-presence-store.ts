// MemoryPresenceStore: the PresenceStore contract (presence-store.ts) in this process's memory, for
// the embedded mode and unit tests.
//
// Entries live in channel → (client → entry) maps. Expiry is checked against the injected clock on
// every read, so answers never depend on sweep timing; the periodic sweep (one unref'd interval
// for the whole store; `sweep()` is public for tests) frees expired entries and empty channels.
// An entry added at time t with ttlMs is live while now < t + ttlMs.
import { systemClock } from './types.ts';
import type { Clock, ClientInfo } from './types.ts';
import type { PresenceStats, PresenceStore } from './presence-store.ts';

export interface MemoryPresenceStoreOptions {
  clock?: Clock;
  /** Interval of the cleanup sweep; 0 disables the timer. Default 10 s. */
  sweepIntervalMs?: number;
}

interface Entry {
  info: ClientInfo;
  expiresAt: number;
}

export class MemoryPresenceStore implements PresenceStore {
  readonly #clock: Clock;
  readonly #channels = new Map<string, Map<string, Entry>>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: MemoryPresenceStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    const interval = options.sweepIntervalMs ?? 10_000;
    if (interval > 0) {
      this.#timer = setInterval(() => this.sweep(), interval);
      this.#timer.unref();
    }
  }

  /** Channels with at least one stored (possibly expired, not yet swept) entry. */
  get channelCount(): number {
    return this.#channels.size;
  }

  add(channel: string, info: ClientInfo, ttlMs: number): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('presence store is closed'));
    let clients = this.#channels.get(channel);
    if (!clients) {
      clients = new Map();
      this.#channels.set(channel, clients);
    }
    const expiresAt = this.#clock.now() + ttlMs;
    const entry = clients.get(info.client);
    if (entry) {
      entry.info = info;
      entry.expiresAt = expiresAt;
    } else {
      clients.set(info.client, { info, expiresAt });
    }
    return Promise.resolve();
  }

  remove(channel: string, client: string): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('presence store is closed'));
    const clients = this.#channels.get(channel);
    if (clients && clients.delete(client) && clients.size === 0) this.#channels.delete(channel);
    return Promise.resolve();
  }

  get(channel: string): Promise<Map<string, ClientInfo>> {
    if (this.#closed) return Promise.reject(new Error('presence store is closed'));
    const out = new Map<string, ClientInfo>();
    const clients = this.#channels.get(channel);
    if (clients) {
      const now = this.#clock.now();
      for (const [client, entry] of clients) if (now < entry.expiresAt) out.set(client, entry.info);
    }
    return Promise.resolve(out);
  }

  stats(channel: string): Promise<PresenceStats> {
    if (this.#closed) return Promise.reject(new Error('presence store is closed'));
    const clients = this.#channels.get(channel);
    if (!clients) return Promise.resolve({ numClients: 0, numUsers: 0 });
    const now = this.#clock.now();
    const users = new Set<string>();
    let numClients = 0;
    for (const entry of clients.values()) {
      if (now >= entry.expiresAt) continue;
      numClients++;
      users.add(entry.info.user);
    }
    return Promise.resolve({ numClients, numUsers: users.size });
  }

  /** Frees expired entries and empty channels. */
  sweep(): void {
    const now = this.#clock.now();
    for (const [channel, clients] of this.#channels) {
      for (const [client, entry] of clients) if (now >= entry.expiresAt) clients.delete(client);
      if (clients.size === 0) this.#channels.delete(channel);
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#channels.clear();
    return Promise.resolve();
  }
}
