// Remote JWKS key sets, one per resolved endpoint URL, least recently used first out.
//
// Keyed by the full URL — never by `kid` alone: two tenants may publish the same `kid` with
// different keys, and a key fetched for one must never verify the other's token (the Centrifugo
// dynamic JWKS flaw, CVE-2026-49998). Bounded, so tokens naming ever new tenants cannot grow
// memory without limit; an evicted set is simply fetched again when next needed.
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';

export interface JwksFetchOptions {
  /** Minimum time between refetches of one endpoint on an unknown `kid`. Default 30 s. */
  cooldownMs?: number;
  /** Lifetime of a fetched key set. Default 10 min. */
  cacheMaxAgeMs?: number;
  /** HTTP timeout of one fetch. Default 5 s. */
  timeoutMs?: number;
  /** Most endpoints (templated JWKS) whose key sets are kept. Default 1024. */
  maxEndpoints?: number;
}

export function remoteKeySet(url: URL, options: JwksFetchOptions): JWTVerifyGetKey {
  return createRemoteJWKSet(url, {
    cooldownDuration: options.cooldownMs ?? 30_000,
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    timeoutDuration: options.timeoutMs ?? 5_000,
  });
}

export class RemoteKeySets {
  readonly maxEndpoints: number;
  private readonly options: JwksFetchOptions;
  // Map iteration order is insertion order: re-inserting on use keeps the oldest first.
  private readonly sets = new Map<string, JWTVerifyGetKey>();

  constructor(options: JwksFetchOptions = {}) {
    this.options = options;
    this.maxEndpoints = Math.max(1, Math.floor(options.maxEndpoints ?? 1024));
  }

  /** The key set of `url` (an absolute http(s) URL), created on first use. Fetches nothing itself. */
  get(url: string): JWTVerifyGetKey {
    let set = this.sets.get(url);
    if (set !== undefined) {
      this.sets.delete(url);
      this.sets.set(url, set);
      return set;
    }
    set = remoteKeySet(new URL(url), this.options);
    if (this.sets.size >= this.maxEndpoints) {
      const oldest = this.sets.keys().next();
      if (oldest.done !== true) this.sets.delete(oldest.value);
    }
    this.sets.set(url, set);
    return set;
  }

  /** Endpoints currently cached (for tests and metrics). */
  get size(): number {
    return this.sets.size;
  }

  has(url: string): boolean {
    return this.sets.has(url);
  }
}
