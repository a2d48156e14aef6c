// TokenVerifier: checks connection and subscription JWTs (PROTOCOL.md §8) and turns their claims
// into typed values. The gateway maps the outcome to wire codes:
//   connection token: expired → error 109 (refresh: disconnect 3005), invalid → disconnect 3500;
//   subscription token: expired → error 109, invalid signature/format → 103, claim mismatch
//   (channel, sub, client) → disconnect 3500 — the mismatch checks need the request context, so
//   the gateway does them on the returned claims.
// Implementation: JoseTokenVerifier (jose), built from client.token / client.subscription_token.
import type { SubscribeOverride } from '../control-bus.ts';

/** Per-channel options of the `subs` claim of a connection token. */
export interface TokenSubOptions {
  info?: Uint8Array;
  data?: Uint8Array;
  override?: SubscribeOverride;
}

export interface ConnectionClaims {
  /** User id ('' for anonymous). */
  user: string;
  /** Unix seconds when the connection expires (expire_at, else exp); 0 = never. */
  expireAt: number;
  info?: Uint8Array;
  /** Server-side channels from `channels` and `subs` (subs take precedence). */
  subs: Map<string, TokenSubOptions>;
  /** Server-only `meta` claim, kept opaque. */
  meta?: unknown;
}

export interface SubscriptionClaims {
  user: string;
  channel: string;
  /** When set, must equal the connection's client id. */
  client: string;
  /** Unix seconds; 0 = never. */
  expireAt: number;
  info?: Uint8Array;
  data?: Uint8Array;
  override?: SubscribeOverride;
}

export type TokenResult<T> =
  | { ok: true; claims: T }
  | { ok: false; reason: 'expired' | 'invalid'; detail: string };

export interface TokenVerifier {
  verifyConnectionToken(jwt: string): Promise<TokenResult<ConnectionClaims>>;
  verifySubscriptionToken(jwt: string): Promise<TokenResult<SubscriptionClaims>>;
}
