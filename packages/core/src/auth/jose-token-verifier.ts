// JoseTokenVerifier: the TokenVerifier of Rotor (PROTOCOL.md §8), built from client.token and
// client.subscription_token (subscription tokens use their own settings when that section is
// enabled, client.token's otherwise).
//
// Signature paths, chosen by the token's `alg` and restricted to what the configured keys allow
// (never `none`; an HS token is only ever checked with the HMAC secret, so a public key can never
// act as an HMAC secret):
// - HS256/384/512: HMAC secret (plus the previous secret until its valid_until). Verified with
//   node:crypto directly — synchronous and ~15x faster than WebCrypto, which matters at 10k+
//   connects/s — with a constant-time comparison.
// - RS256/384/512, ES256/384/512 (static PEM keys; an EC key allows only its curve's ES alg) and
//   EdDSA/RS/ES from a JWKS endpoint (jose: keys cached, selected by `kid`, refetched on an
//   unknown `kid` at most once per cooldown). A templated endpoint (`{{tenant}}`, jwks-template.ts)
//   is resolved from the token's unverified iss/aud through issuer_regex/audience_regex; keys are
//   cached per resolved URL (jwks-cache.ts), and a token whose iss/aud do not resolve is invalid
//   before any fetch. The signature is then checked with that endpoint's keys and iss/aud are
//   checked again with the claims, as for any token.
// Claims are then checked and parsed by jwt-claims.ts.
//
// Outcomes: a TokenResult for anything about the token; a rejected promise (RotorError 100,
// temporary) only when the JWKS endpoint cannot be reached or returns garbage — the token may be
// fine, so the client should retry rather than be told its token is invalid.
import { createHmac, createPublicKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { compactVerify, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import { compileGoRegex } from '../channels.ts';
import { Errors, RotorError } from '../codes.ts';
import type { ClientConfig, TokenConfig } from '../config/types.ts';
import type { Clock } from '../types.ts';
import { RemoteKeySets, remoteKeySet, type JwksFetchOptions } from './jwks-cache.ts';
import { JwksTemplate } from './jwks-template.ts';
import { connectionClaims, invalid, subscriptionClaims, type ClaimRules, type Payload } from './jwt-claims.ts';
import type { ConnectionClaims, SubscriptionClaims, TokenResult, TokenVerifier } from './token-verifier.ts';

export interface JoseTokenVerifierOptions {
  /** Wall clock for exp/nbf and the previous HMAC key's deadline; Date.now by default. */
  clock?: Clock;
  /** Longer tokens are rejected before any parsing. Default 65536 characters. */
  maxTokenLength?: number;
  /**
   * JWKS fetching: refetch cooldown (default 30 s), cache lifetime (10 min), HTTP timeout (5 s),
   * endpoints kept for a templated jwks_public_endpoint (1024, least recently used evicted).
   */
  jwks?: JwksFetchOptions;
}

export type TokenVerifierSettings = Pick<ClientConfig, 'token' | 'subscriptionToken' | 'insecureSkipTokenSignatureVerify'>;

const hmacHash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' } as const;
type HmacAlg = keyof typeof hmacHash;
const rsaAlgs = ['RS256', 'RS384', 'RS512'] as const;
const ecAlgByCurve: Readonly<Record<string, string>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
const jwksAlgs = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
const base64url = /^[A-Za-z0-9_-]+$/;

/** The JWKS endpoint failed (network, status, body): not the token's fault. */
class JwksUnavailable extends Error {}

/** The token's iss/aud do not resolve a templated JWKS endpoint: the token's fault. */
class JwksEndpointUnresolved extends Error {}

/** One verification setup: client.token, or client.subscription_token when enabled. */
class KeySet {
  readonly rules: ClaimRules;
  private readonly hmac: Buffer | null;
  private readonly hmacPrevious: Buffer | null;
  private readonly hmacPreviousUntilMs: number;
  private readonly rsa: KeyObject | null;
  private readonly ec: KeyObject | null;
  /** A fixed jwks_public_endpoint's key set. */
  private readonly jwks: JWTVerifyGetKey | null;
  /** A templated jwks_public_endpoint, with the key sets of the URLs it resolved to. */
  private readonly jwksTemplate: JwksTemplate | null;
  private readonly jwksSets: RemoteKeySets | null;
  /** Algorithms verified by jose (everything but HMAC). */
  readonly asymmetricAlgs: ReadonlySet<string>;
  private readonly algList: string[];

  constructor(t: TokenConfig, options: JoseTokenVerifierOptions) {
    this.rules = {
      userIdClaim: t.userIdClaim === '' ? 'sub' : t.userIdClaim,
      audience: t.audience,
      audienceRegex: t.audienceRegex === '' ? null : compileGoRegex(t.audienceRegex),
      issuer: t.issuer,
      issuerRegex: t.issuerRegex === '' ? null : compileGoRegex(t.issuerRegex),
    };
    this.hmac = t.hmacSecretKey === '' ? null : Buffer.from(t.hmacSecretKey, 'utf8');
    this.hmacPrevious = t.hmacPreviousSecretKey === '' || this.hmac === null ? null : Buffer.from(t.hmacPreviousSecretKey, 'utf8');
    this.hmacPreviousUntilMs = t.hmacPreviousSecretKeyValidUntil;
    const algs = new Set<string>();
    this.rsa = t.rsaPublicKey === '' ? null : publicKey(t.rsaPublicKey, 'rsa', 'client.token.rsa_public_key');
    if (this.rsa !== null) for (const a of rsaAlgs) algs.add(a);
    this.ec = t.ecdsaPublicKey === '' ? null : publicKey(t.ecdsaPublicKey, 'ec', 'client.token.ecdsa_public_key');
    if (this.ec !== null) {
      const alg = ecAlgByCurve[this.ec.asymmetricKeyDetails?.namedCurve ?? ''];
      if (alg === undefined) throw new Error(`ecdsa_public_key: unsupported curve ${this.ec.asymmetricKeyDetails?.namedCurve}`);
      algs.add(alg);
    }
    this.jwksTemplate = t.jwksPublicEndpoint === '' ? null : JwksTemplate.parse(t.jwksPublicEndpoint);
    if (this.jwksTemplate !== null) {
      const problem = this.jwksTemplate.checkSources(t.issuerRegex, t.audienceRegex, !t.insecureSkipJwksEndpointSafetyCheck);
      if (problem !== null) throw new Error(`jwks_public_endpoint: ${problem}`);
    }
    this.jwks = t.jwksPublicEndpoint !== '' && this.jwksTemplate === null ? remoteKeySet(new URL(t.jwksPublicEndpoint), options.jwks ?? {}) : null;
    this.jwksSets = this.jwksTemplate === null ? null : new RemoteKeySets(options.jwks);
    if (t.jwksPublicEndpoint !== '') for (const a of jwksAlgs) algs.add(a);
    this.asymmetricAlgs = algs;
    this.algList = [...algs];
  }

  /** Templated-JWKS endpoints whose key sets are cached (0 without a template). */
  get cachedJwksEndpoints(): number {
    return this.jwksSets?.size ?? 0;
  }

  /** The key set of the endpoint the token's iss/aud resolve the template to. */
  private keySetFor(payload: Payload): JWTVerifyGetKey {
    if (this.jwksTemplate === null || this.jwksSets === null) throw new Error('no JWKS endpoint configured');
    const url = this.jwksTemplate.resolve(payload, this.rules);
    if (typeof url !== 'string') throw new JwksEndpointUnresolved(url.error);
    return this.jwksSets.get(url);
  }

  /** Verifies an HS* signature; null when it matches, else the failure. */
  verifyHmac(alg: HmacAlg, signingInput: string, signature: string, nowMs: number): string | null {
    if (this.hmac === null) return `algorithm ${alg} not allowed`;
    const given = Buffer.from(signature, 'base64url');
    // Only the canonical encoding counts: no alternative spellings of one signature.
    if (given.toString('base64url') !== signature) return 'malformed signature';
    if (hmacMatches(this.hmac, alg, signingInput, given)) return null;
    const previousValid = this.hmacPrevious !== null && (this.hmacPreviousUntilMs === 0 || nowMs < this.hmacPreviousUntilMs);
    if (previousValid && this.hmacPrevious !== null && hmacMatches(this.hmacPrevious, alg, signingInput, given)) return null;
    return 'signature verification failed';
  }

  /**
   * Verifies an RS/ES/EdDSA signature with jose; null when it matches, else the failure. `payload`
   * is the token's decoded, not yet verified payload: it only picks a templated JWKS endpoint.
   */
  async verifyAsymmetric(jwt: string, payload: Payload): Promise<string | null> {
    try {
      await compactVerify(jwt, (header, token) => this.resolveKey(header.alg ?? '', header.kid, header, token, payload), { algorithms: this.algList });
      return null;
    } catch (err) {
      if (err instanceof JwksUnavailable) throw new RotorError(Errors.internal, `JWKS unavailable: ${err.message}`);
      // Everything else jose raises here is about the (attacker-supplied) token or its key match.
      return err instanceof Error ? err.message : String(err);
    }
  }

  private async resolveKey(
    alg: string,
    kid: string | undefined,
    header: Parameters<JWTVerifyGetKey>[0],
    token: Parameters<JWTVerifyGetKey>[1],
    payload: Payload,
  ) {
    const hasJwks = this.jwks !== null || this.jwksTemplate !== null;
    const preferJwks = hasJwks && kid !== undefined;
    if (alg.startsWith('RS') && this.rsa !== null && !preferJwks) return this.rsa;
    if (alg.startsWith('ES') && this.ec !== null && !preferJwks) return this.ec;
    if (!hasJwks) {
      if (alg.startsWith('RS') && this.rsa !== null) return this.rsa;
      if (alg.startsWith('ES') && this.ec !== null) return this.ec;
      throw new joseErrors.JOSEAlgNotAllowed(`no key for ${alg}`);
    }
    const jwks = this.jwks ?? this.keySetFor(payload);
    try {
      return await jwks(header, token);
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) throw err;
      throw new JwksUnavailable(err instanceof Error ? err.message : String(err));
    }
  }
}

function hmacMatches(secret: Buffer, alg: HmacAlg, signingInput: string, given: Buffer): boolean {
  const expected = createHmac(hmacHash[alg], secret).update(signingInput).digest();
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function publicKey(pem: string, type: 'rsa' | 'ec', what: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== type) throw new Error(`${what}: expected a ${type} key, got ${key.asymmetricKeyType}`);
  return key;
}

function isHmacAlg(alg: string): alg is HmacAlg {
  return alg === 'HS256' || alg === 'HS384' || alg === 'HS512';
}

function decodeJsonObject(part: string): Payload | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    // Not JSON: the caller reports the token as malformed.
    return null;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Payload) : null;
}

export class JoseTokenVerifier implements TokenVerifier {
  private readonly connection: KeySet;
  private readonly subscription: KeySet;
  private readonly skipSignature: boolean;
  private readonly clock: Clock;
  private readonly maxTokenLength: number;

  /** Throws when a configured key cannot be used (the config loader validates them first). */
  constructor(settings: TokenVerifierSettings, options: JoseTokenVerifierOptions = {}) {
    this.connection = new KeySet(settings.token, options);
    this.subscription = settings.subscriptionToken.enabled ? new KeySet(settings.subscriptionToken, options) : this.connection;
    this.skipSignature = settings.insecureSkipTokenSignatureVerify;
    this.clock = options.clock ?? Date;
    this.maxTokenLength = options.maxTokenLength ?? 65_536;
  }

  /** Key sets cached for templated JWKS endpoints (connection plus separate subscription settings). */
  get cachedJwksEndpoints(): number {
    const sub = this.subscription === this.connection ? 0 : this.subscription.cachedJwksEndpoints;
    return this.connection.cachedJwksEndpoints + sub;
  }

  async verifyConnectionToken(jwt: string): Promise<TokenResult<ConnectionClaims>> {
    const keys = this.connection;
    const payload = await this.verifiedPayload(jwt, keys);
    if (typeof payload === 'string') return invalid(payload);
    return connectionClaims(payload, keys.rules, this.clock.now());
  }

  async verifySubscriptionToken(jwt: string): Promise<TokenResult<SubscriptionClaims>> {
    const keys = this.subscription;
    const payload = await this.verifiedPayload(jwt, keys);
    if (typeof payload === 'string') return invalid(payload);
    return subscriptionClaims(payload, keys.rules, this.clock.now());
  }

  /** The payload of a token whose signature checks out, or why not. */
  private async verifiedPayload(jwt: string, keys: KeySet): Promise<Payload | string> {
    if (typeof jwt !== 'string' || jwt.length === 0) return 'empty token';
    if (jwt.length > this.maxTokenLength) return `token longer than ${this.maxTokenLength} characters`;
    const dot1 = jwt.indexOf('.');
    const dot2 = dot1 < 0 ? -1 : jwt.indexOf('.', dot1 + 1);
    if (dot2 < 0 || jwt.indexOf('.', dot2 + 1) >= 0) return 'malformed token: expected three dot-separated parts';
    const headerPart = jwt.slice(0, dot1);
    const payloadPart = jwt.slice(dot1 + 1, dot2);
    const signaturePart = jwt.slice(dot2 + 1);
    if (!base64url.test(headerPart) || !base64url.test(payloadPart) || (signaturePart !== '' && !base64url.test(signaturePart))) {
      return 'malformed token: not base64url';
    }
    const header = decodeJsonObject(headerPart);
    if (header === null) return 'malformed token header';
    const payload = decodeJsonObject(payloadPart);
    if (payload === null) return 'malformed token payload';
    if (this.skipSignature) return payload;

    const alg = header['alg'];
    if (typeof alg !== 'string') return 'token header has no alg';
    // Extensions we do not implement must not be silently ignored (RFC 7515 §4.1.11).
    if (header['crit'] !== undefined || header['b64'] !== undefined) return 'unsupported token header (crit/b64)';
    if (isHmacAlg(alg)) {
      const failure = keys.verifyHmac(alg, jwt.slice(0, dot2), signaturePart, this.clock.now());
      return failure ?? payload;
    }
    if (!keys.asymmetricAlgs.has(alg)) return `algorithm ${alg} not allowed`;
    // jose verifies the signature over the same compact string whose payload we decoded above.
    const failure = await keys.verifyAsymmetric(jwt, payload);
    return failure ?? payload;
  }
}
