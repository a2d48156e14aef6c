// Claim checks and parsing for connection and subscription tokens (PROTOCOL.md §8), shared by
// every signature path. Input is the decoded JSON payload — attacker-controlled until proven
// otherwise — so every field is type-checked and a bad one makes the token invalid; nothing here
// throws on bad input.
import type { SubscribeOverride } from '../control-bus.ts';
import type { ConnectionClaims, SubscriptionClaims, TokenResult, TokenSubOptions } from './token-verifier.ts';

export type Payload = Record<string, unknown>;

/** What a token must satisfy besides its signature (from client.token / subscription_token). */
export interface ClaimRules {
  userIdClaim: string;
  audience: string;
  audienceRegex: RegExp | null;
  issuer: string;
  issuerRegex: RegExp | null;
}

type Failure = { ok: false; reason: 'expired' | 'invalid'; detail: string };

export function invalid(detail: string): Failure {
  return { ok: false, reason: 'invalid', detail };
}

const utf8 = new TextEncoder();
const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

/** Thrown inside the parsers below and turned into an invalid result at their boundary. */
class ClaimError extends Error {}

/**
 * exp/nbf then aud/iss, in Centrifugo's order: an expired token is 'expired' (the client may
 * refresh it); a token not yet valid (`nbf` in the future) or for another audience/issuer is
 * 'invalid'.
 */
function checkStandard(p: Payload, rules: ClaimRules, nowMs: number): Failure | null {
  const exp = p['exp'];
  const nbf = p['nbf'];
  if (exp !== undefined && (typeof exp !== 'number' || !Number.isFinite(exp))) return invalid('exp is not a number');
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) return invalid('nbf is not a number');
  const now = nowMs / 1000;
  if (typeof exp === 'number' && now >= exp) return { ok: false, reason: 'expired', detail: 'token expired' };
  if (typeof nbf === 'number' && now < nbf) return invalid('token not valid yet (nbf)');
  if (rules.audience !== '' || rules.audienceRegex !== null) {
    const aud = p['aud'];
    const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    if (rules.audience !== '' && !auds.includes(rules.audience)) return invalid('audience mismatch');
    const re = rules.audienceRegex;
    if (re !== null && !auds.some((a) => re.test(a))) return invalid('audience mismatch');
  }
  if (rules.issuer !== '' || rules.issuerRegex !== null) {
    const iss = p['iss'];
    if (typeof iss !== 'string') return invalid('issuer mismatch');
    if (rules.issuer !== '' && iss !== rules.issuer) return invalid('issuer mismatch');
    if (rules.issuerRegex !== null && !rules.issuerRegex.test(iss)) return invalid('issuer mismatch');
  }
  return null;
}

export function connectionClaims(p: Payload, rules: ClaimRules, nowMs: number): TokenResult<ConnectionClaims> {
  const fail = checkStandard(p, rules, nowMs);
  if (fail !== null) return fail;
  try {
    const channel = p['channel'];
    if (channel !== undefined && channel !== null && channel !== '') throw new ClaimError('channel claim is not allowed in a connection token');
    const claims: ConnectionClaims = {
      user: userOf(p, rules.userIdClaim),
      expireAt: expireAtOf(p),
      subs: new Map(),
    };
    const info = bytesOf(p, 'info', 'b64info');
    if (info !== undefined) claims.info = info;
    const subs = p['subs'];
    if (subs !== undefined && subs !== null) {
      if (!isObject(subs)) throw new ClaimError('subs is not an object');
      for (const [ch, raw] of Object.entries(subs)) {
        if (ch === '') throw new ClaimError('subs has an empty channel name');
        if (!isObject(raw)) throw new ClaimError(`subs.${ch} is not an object`);
        const opts: TokenSubOptions = {};
        const subInfo = bytesOf(raw, 'info', 'b64info');
        if (subInfo !== undefined) opts.info = subInfo;
        const data = bytesOf(raw, 'data', 'b64data');
        if (data !== undefined) opts.data = data;
        const override = overrideOf(raw['override']);
        if (override !== undefined) opts.override = override;
        claims.subs.set(ch, opts);
      }
    }
    // As in Centrifugo, a non-empty `subs` replaces `channels` altogether.
    const fromChannels = claims.subs.size === 0;
    const channels = p['channels'];
    if (channels !== undefined && channels !== null) {
      if (!Array.isArray(channels)) throw new ClaimError('channels is not a list');
      for (const ch of channels) {
        if (typeof ch !== 'string' || ch === '') throw new ClaimError('channels must hold non-empty strings');
        if (fromChannels) claims.subs.set(ch, {});
      }
    }
    if (p['meta'] !== undefined && p['meta'] !== null) claims.meta = p['meta'];
    return { ok: true, claims };
  } catch (err) {
    if (err instanceof ClaimError) return invalid(err.message);
    throw err;
  }
}

export function subscriptionClaims(p: Payload, rules: ClaimRules, nowMs: number): TokenResult<SubscriptionClaims> {
  const fail = checkStandard(p, rules, nowMs);
  if (fail !== null) return fail;
  try {
    const channel = p['channel'];
    if (typeof channel !== 'string' || channel === '') throw new ClaimError('channel claim is required in a subscription token');
    const client = p['client'];
    if (client !== undefined && client !== null && typeof client !== 'string') throw new ClaimError('client is not a string');
    const claims: SubscriptionClaims = {
      user: userOf(p, rules.userIdClaim),
      channel,
      client: typeof client === 'string' ? client : '',
      expireAt: expireAtOf(p),
    };
    const info = bytesOf(p, 'info', 'b64info');
    if (info !== undefined) claims.info = info;
    const data = bytesOf(p, 'data', 'b64data');
    if (data !== undefined) claims.data = data;
    const override = overrideOf(p['override']);
    if (override !== undefined) claims.override = override;
    return { ok: true, claims };
  } catch (err) {
    if (err instanceof ClaimError) return invalid(err.message);
    throw err;
  }
}

function isObject(v: unknown): v is Payload {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function userOf(p: Payload, claim: string): string {
  const user = p[claim];
  if (user === undefined || user === null) return '';
  if (typeof user !== 'string') throw new ClaimError(`${claim} is not a string`);
  return user;
}

/** expire_at wins over exp when present (0 = never expires); otherwise exp, otherwise never. */
function expireAtOf(p: Payload): number {
  const expireAt = p['expire_at'];
  if (expireAt !== undefined && expireAt !== null) {
    if (typeof expireAt !== 'number' || !Number.isInteger(expireAt) || expireAt < 0) throw new ClaimError('expire_at is not a non-negative integer');
    return expireAt;
  }
  const exp = p['exp'];
  return typeof exp === 'number' ? Math.floor(exp) : 0;
}

/** Raw JSON claim `rawKey` as bytes, or base64 claim `b64Key` decoded (which wins when non-empty). */
function bytesOf(p: Payload, rawKey: string, b64Key: string): Uint8Array | undefined {
  const b64 = p[b64Key];
  if (b64 !== undefined && b64 !== null && b64 !== '') {
    if (typeof b64 !== 'string' || b64.length % 4 !== 0 || !base64Pattern.test(b64)) throw new ClaimError(`${b64Key} is not valid base64`);
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }
  const raw = p[rawKey];
  if (raw === undefined || raw === null) return undefined;
  return utf8.encode(JSON.stringify(raw));
}

const overrideKeys = [
  ['presence', 'presence'],
  ['join_leave', 'joinLeave'],
  ['force_push_join_leave', 'forcePushJoinLeave'],
  ['force_recovery', 'forceRecovery'],
  ['force_positioning', 'forcePositioning'],
] as const;

/** `override: {presence: {value: true}, …}` (protobuf BoolValue shape) → SubscribeOverride. */
function overrideOf(raw: unknown): SubscribeOverride | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw new ClaimError('override is not an object');
  const out: SubscribeOverride = {};
  for (const [key, prop] of overrideKeys) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    if (!isObject(v)) throw new ClaimError(`override.${key} is not an object {value: bool}`);
    const value = v['value'];
    if (value !== undefined && typeof value !== 'boolean') throw new ClaimError(`override.${key}.value is not a boolean`);
    out[prop] = value === true;
  }
  return out;
}
