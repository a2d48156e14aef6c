import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT } from 'jose';
import { RotorError } from '../codes.ts';
import { defaultConfig } from '../config/load.ts';
import type { TokenConfig } from '../config/types.ts';
import { JoseTokenVerifier, type JoseTokenVerifierOptions, type TokenVerifierSettings } from './jose-token-verifier.ts';
import type { ConnectionClaims } from './token-verifier.ts';
import { signHmacToken } from './token-signer.ts';

const NOW_S = 1_800_000_000;
const clock = { ms: NOW_S * 1000, now(): number { return this.ms; } };
const opts = (extra: JoseTokenVerifierOptions = {}): JoseTokenVerifierOptions => ({ clock, ...extra });

function tokenConfig(over: Partial<TokenConfig> = {}): TokenConfig {
  return { ...defaultConfig().client.token, ...over };
}

function settings(token: Partial<TokenConfig>, sub?: Partial<TokenConfig>, skip = false): TokenVerifierSettings {
  return {
    token: tokenConfig(token),
    subscriptionToken: { enabled: sub !== undefined, ...tokenConfig(sub ?? {}) },
    insecureSkipTokenSignatureVerify: skip,
  };
}

const SECRET = 'a-strong-hmac-secret-of-some-length';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec256Pem = ec256.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ed = generateKeyPairSync('ed25519');

const b64u = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Signs with a private KeyObject (or HMAC secret string) and an explicit header. */
async function sign(claims: Record<string, unknown>, key: KeyObject | string, alg: string, kid?: string): Promise<string> {
  const k = typeof key === 'string' ? new TextEncoder().encode(key) : key;
  return new SignJWT(claims).setProtectedHeader({ alg, ...(kid === undefined ? {} : { kid }) }).sign(k);
}

/** An HS token built by hand, so attacks can use any key bytes and header. */
function handHs(header: Record<string, unknown>, payload: unknown, secret: string | Buffer, hash = 'sha256'): string {
  const input = `${b64u(header)}.${b64u(payload)}`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

const fresh = { sub: 'user-1', exp: NOW_S + 3600 };

test('HS256/384/512 tokens verify with the HMAC secret', async () => {
  const v = new JoseTokenVerifier(settings({ hmacSecretKey: SECRET }), opts());
  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    const r = await v.verifyConnectionToken(await signHmacToken(fresh, SECRET, alg));
    assert.ok(r.ok, `${alg}: ${JSON.stringify(r)}`);
    assert.equal(r.claims.user, 'user-1');
    assert.equal(r.claims.expireAt, NOW_S + 3600);
  }
});

test('previous HMAC key is accepted until valid_until, then rejected', async () => {
  const until = (NOW_S + 60) * 1000;
  const v = new JoseTokenVerifier(settings({ hmacSecretKey: 'new-secret', hmacPreviousSecretKey: 'old-secret', hmacPreviousSecretKeyValidUntil: until }), opts());
  const oldToken = await signHmacToken(fresh, 'old-secret');
  assert.equal((await v.verifyConnectionToken(oldToken)).ok, true);
  assert.equal((await v.verifyConnectionToken(await signHmacToken(fresh, 'new-secret'))).ok, true);
  assert.equal((await v.verifyConnectionToken(await signHmacToken(fresh, 'other'))).ok, false);
  const saved = clock.ms;
  clock.ms = until;
  try {
    const r = await v.verifyConnectionToken(oldToken);
    assert.deepEqual(r.ok ? 'ok' : [r.reason, r.detail], ['invalid', 'signature verification failed']);
  } finally {
    clock.ms = saved;
  }
});

test('RS256/384/512 and ES256 tokens verify with PEM public keys; an EC key allows only its curve', async () => {
  const v = new JoseTokenVerifier(settings({ rsaPublicKey: rsaPem, ecdsaPublicKey: ec256Pem }), opts());
  for (const alg of ['RS256', 'RS384', 'RS512']) {
    const r = await v.verifyConnectionToken(await sign(fresh, rsa.privateKey, alg));
    assert.ok(r.ok, alg);
  }
  assert.ok((await v.verifyConnectionToken(await sign(fresh, ec256.privateKey, 'ES256'))).ok, 'ES256');
  const es384 = await v.verifyConnectionToken(await sign(fresh, ec384.privateKey, 'ES384'));
  assert.deepEqual(es384.ok ? 'ok' : es384.detail, 'algorithm ES384 not allowed');
});

interface Attack {
  name: string;
  token: () => Promise<string> | string;
  reason: 'expired' | 'invalid';
  detail?: RegExp;
}

test('attacks and malformed tokens are rejected with the right reason', async () => {
  const hsOnly = new JoseTokenVerifier(settings({ hmacSecretKey: SECRET, audience: 'rotor', issuer: 'https://auth.example.com' }), opts({ maxTokenLength: 4096 }));
  const good = { ...fresh, aud: 'rotor', iss: 'https://auth.example.com' };
  const attacks: Attack[] = [
    { name: 'alg none', token: () => `${b64u({ alg: 'none', typ: 'JWT' })}.${b64u(good)}.`, reason: 'invalid', detail: /algorithm none not allowed/ },
    { name: 'alg None (case)', token: () => `${b64u({ alg: 'None' })}.${b64u(good)}.`, reason: 'invalid', detail: /not allowed/ },
    { name: 'RS256 token against HMAC-only config', token: () => sign(good, rsa.privateKey, 'RS256'), reason: 'invalid', detail: /RS256 not allowed/ },
    { name: 'wrong HMAC key', token: () => signHmacToken(good, 'not-the-secret'), reason: 'invalid', detail: /signature/ },
    { name: 'tampered payload', token: async () => { const [h, , s] = (await signHmacToken(good, SECRET)).split('.'); return `${h}.${b64u({ ...good, sub: 'admin' })}.${s}`; }, reason: 'invalid', detail: /signature/ },
    { name: 'HS384 header over an HS256 signature', token: async () => { const [, p, s] = (await signHmacToken(good, SECRET)).split('.'); return `${b64u({ alg: 'HS384' })}.${p}.${s}`; }, reason: 'invalid' },
    { name: 'signature stripped', token: async () => { const [h, p] = (await signHmacToken(good, SECRET)).split('.'); return `${h}.${p}.`; }, reason: 'invalid' },
    { name: 'non-canonical signature encoding', token: async () => `${await signHmacToken(good, SECRET)}A`, reason: 'invalid' },
    { name: 'expired', token: () => signHmacToken({ ...good, exp: NOW_S - 1 }, SECRET), reason: 'expired' },
    { name: 'expires exactly now', token: () => signHmacToken({ ...good, exp: NOW_S }, SECRET), reason: 'expired' },
    { name: 'expired and badly signed → invalid, not expired', token: () => signHmacToken({ ...good, exp: NOW_S - 1 }, 'nope'), reason: 'invalid' },
    { name: 'nbf in the future', token: () => signHmacToken({ ...good, nbf: NOW_S + 60 }, SECRET), reason: 'invalid', detail: /nbf/ },
    { name: 'exp not a number', token: () => signHmacToken({ ...good, exp: 'tomorrow' }, SECRET), reason: 'invalid' },
    { name: 'wrong aud', token: () => signHmacToken({ ...good, aud: 'other' }, SECRET), reason: 'invalid', detail: /audience/ },
    { name: 'missing aud', token: () => signHmacToken({ ...fresh, iss: good.iss }, SECRET), reason: 'invalid', detail: /audience/ },
    { name: 'wrong iss', token: () => signHmacToken({ ...good, iss: 'https://evil.example.com' }, SECRET), reason: 'invalid', detail: /issuer/ },
    { name: 'channel claim in a connection token', token: () => signHmacToken({ ...good, channel: 'news' }, SECRET), reason: 'invalid', detail: /channel claim/ },
    { name: 'sub not a string', token: () => signHmacToken({ ...good, sub: 42 }, SECRET), reason: 'invalid', detail: /sub is not a string/ },
    { name: 'bad b64info', token: () => signHmacToken({ ...good, b64info: 'not*base64' }, SECRET), reason: 'invalid', detail: /b64info/ },
    { name: 'channels not a list', token: () => signHmacToken({ ...good, channels: 'news' }, SECRET), reason: 'invalid' },
    { name: 'subs entry not an object', token: () => signHmacToken({ ...good, subs: { news: true } }, SECRET), reason: 'invalid' },
    { name: 'override value not boolean', token: () => signHmacToken({ ...good, subs: { news: { override: { presence: { value: 'yes' } } } } }, SECRET), reason: 'invalid' },
    { name: 'negative expire_at', token: () => signHmacToken({ ...good, expire_at: -5 }, SECRET), reason: 'invalid' },
    { name: 'two parts', token: () => `${b64u({ alg: 'HS256' })}.${b64u(good)}`, reason: 'invalid', detail: /three/ },
    { name: 'four parts', token: async () => `${await signHmacToken(good, SECRET)}.x`, reason: 'invalid', detail: /three/ },
    { name: 'not base64url', token: () => `${b64u({ alg: 'HS256' })}.e30!.abc`, reason: 'invalid', detail: /base64url/ },
    { name: 'payload not JSON', token: () => handHs({ alg: 'HS256' }, '{not json', SECRET), reason: 'invalid', detail: /payload/ },
    { name: 'payload a JSON array', token: () => handHs({ alg: 'HS256' }, [1, 2], SECRET), reason: 'invalid', detail: /payload/ },
    { name: 'header not JSON', token: () => `${b64u('x')}.${b64u(good)}.sig`, reason: 'invalid', detail: /header/ },
    { name: 'header without alg', token: () => handHs({ typ: 'JWT' }, good, SECRET), reason: 'invalid', detail: /no alg/ },
    { name: 'crit header', token: () => handHs({ alg: 'HS256', crit: ['exp'] }, good, SECRET), reason: 'invalid', detail: /crit/ },
    { name: 'oversized token', token: () => signHmacToken({ ...good, info: 'x'.repeat(5000) }, SECRET), reason: 'invalid', detail: /longer than 4096/ },
    { name: 'empty token', token: () => '', reason: 'invalid', detail: /empty/ },
  ];
  for (const a of attacks) {
    const r = await hsOnly.verifyConnectionToken(await a.token());
    assert.equal(r.ok, false, a.name);
    if (r.ok) continue;
    assert.equal(r.reason, a.reason, `${a.name}: ${r.detail}`);
    if (a.detail !== undefined) assert.match(r.detail, a.detail, a.name);
  }
  // The control: the same verifier accepts the well-formed token.
  assert.ok((await hsOnly.verifyConnectionToken(await signHmacToken(good, SECRET))).ok);
});

test('an HS256 token signed with the RSA public key PEM as secret never verifies', async () => {
  const forged = handHs({ alg: 'HS256', typ: 'JWT' }, fresh, rsaPem);
  for (const s of [settings({ rsaPublicKey: rsaPem }), settings({ rsaPublicKey: rsaPem, hmacSecretKey: SECRET })]) {
    const r = await new JoseTokenVerifier(s, opts()).verifyConnectionToken(forged);
    assert.equal(r.ok, false);
    assert.equal(r.ok ? '' : r.reason, 'invalid');
  }
});

test('audience and issuer: exact, arrays and regex (unanchored, as in Go)', async () => {
  const v = new JoseTokenVerifier(settings({ hmacSecretKey: SECRET, audienceRegex: '^rotor-(?P<env>dev|prod)$', issuerRegex: 'example\\.com' }), opts());
  const cases: Array<[Record<string, unknown>, boolean]> = [
    [{ aud: 'rotor-dev', iss: 'https://auth.example.com' }, true],
    [{ aud: ['other', 'rotor-prod'], iss: 'example.com' }, true],
    [{ aud: 'rotor-test', iss: 'example.com' }, false],
    [{ aud: 'rotor-dev', iss: 'https://auth.example.org' }, false],
    [{ aud: 'rotor-dev' }, false],
  ];
  for (const [claims, ok] of cases) {
    const r = await v.verifyConnectionToken(await signHmacToken({ ...fresh, ...claims }, SECRET));
    assert.equal(r.ok, ok, JSON.stringify(claims));
  }
});

test('connection claims are parsed: info, b64info, channels, subs with overrides, expire_at, meta, user_id_claim', async () => {
  const v = new JoseTokenVerifier(settings({ hmacSecretKey: SECRET }), opts());
  const r = await v.verifyConnectionToken(
    await signHmacToken(
      {
        sub: 'u1',
        exp: NOW_S + 100,
        expire_at: NOW_S + 50,
        info: { name: 'Ann' },
        channels: ['ignored-because-subs-present'],
        subs: {
          'chat:1': { info: { role: 'mod' }, b64data: Buffer.from([1, 2, 3]).toString('base64'), override: { presence: { value: false }, join_leave: { value: true }, force_recovery: {} } },
          news: {},
        },
        meta: { tenant: 7 },
      },
      SECRET,
    ),
  );
  assert.ok(r.ok);
  const c = r.claims;
  assert.equal(c.user, 'u1');
  assert.equal(c.expireAt, NOW_S + 50);
  assert.equal(Buffer.from(c.info ?? []).toString(), '{"name":"Ann"}');
  assert.deepEqual([...c.subs.keys()], ['chat:1', 'news']);
  const chat = c.subs.get('chat:1');
  assert.equal(Buffer.from(chat?.info ?? []).toString(), '{"role":"mod"}');
  assert.deepEqual([...(chat?.data ?? [])], [1, 2, 3]);
  assert.deepEqual(chat?.override, { presence: false, joinLeave: true, forceRecovery: false });
  assert.deepEqual(c.meta, { tenant: 7 });

  const cases: Array<[Record<string, unknown>, (c: ConnectionClaims) => unknown, unknown]> = [
    [{ channels: ['a', 'b'] }, (x) => [...x.subs.keys()], ['a', 'b']],
    [{ b64info: Buffer.from('raw').toString('base64'), info: { x: 1 } }, (x) => Buffer.from(x.info ?? []).toString(), 'raw'],
    [{ expire_at: 0 }, (x) => x.expireAt, 0],
    [{ exp: undefined }, (x) => x.expireAt, 0],
    [{ sub: '' }, (x) => x.user, ''],
    [{ sub: undefined }, (x) => x.user, ''],
  ];
  for (const [claims, get, want] of cases) {
    const res = await v.verifyConnectionToken(await signHmacToken({ ...fresh, ...claims }, SECRET));
    assert.ok(res.ok, JSON.stringify(claims));
    assert.deepEqual(get(res.claims), want, JSON.stringify(claims));
  }

  const custom = new JoseTokenVerifier(settings({ hmacSecretKey: SECRET, userIdClaim: 'user_id' }), opts());
  const rc = await custom.verifyConnectionToken(await signHmacToken({ sub: 'ignored', user_id: 'real', exp: NOW_S + 10 }, SECRET));
  assert.equal(rc.ok ? rc.claims.user : rc.detail, 'real');
});

test('subscription tokens: claims, and own settings only when subscription_token is enabled', async () => {
  const shared = new JoseTokenVerifier(settings({ hmacSecretKey: SECRET }), opts());
  const subClaims = { sub: 'u1', channel: '$private', client: 'c-1', exp: NOW_S + 60, b64info: Buffer.from('ci').toString('base64'), data: { hello: 1 }, override: { force_positioning: { value: true } } };
  const r = await shared.verifySubscriptionToken(await signHmacToken(subClaims, SECRET));
  assert.ok(r.ok);
  assert.equal(r.claims.user, 'u1');
  assert.equal(r.claims.channel, '$private');
  assert.equal(r.claims.client, 'c-1');
  assert.equal(r.claims.expireAt, NOW_S + 60);
  assert.equal(Buffer.from(r.claims.info ?? []).toString(), 'ci');
  assert.equal(Buffer.from(r.claims.data ?? []).toString(), '{"hello":1}');
  assert.deepEqual(r.claims.override, { forcePositioning: true });

  const noChannel = await shared.verifySubscriptionToken(await signHmacToken(fresh, SECRET));
  assert.deepEqual(noChannel.ok ? 'ok' : [noChannel.reason, noChannel.detail], ['invalid', 'channel claim is required in a subscription token']);
  const expired = await shared.verifySubscriptionToken(await signHmacToken({ ...subClaims, exp: NOW_S - 1 }, SECRET));
  assert.equal(expired.ok ? 'ok' : expired.reason, 'expired');

  const separate = new JoseTokenVerifier(settings({ hmacSecretKey: SECRET }, { hmacSecretKey: 'sub-secret', userIdClaim: 'uid' }), opts());
  assert.equal((await separate.verifySubscriptionToken(await signHmacToken(subClaims, SECRET))).ok, false, 'connection secret does not sign sub tokens');
  const own = await separate.verifySubscriptionToken(await signHmacToken({ ...subClaims, uid: 'u9' }, 'sub-secret'));
  assert.equal(own.ok ? own.claims.user : own.detail, 'u9');
  assert.equal((await separate.verifyConnectionToken(await signHmacToken(fresh, 'sub-secret'))).ok, false, 'sub secret does not sign connection tokens');
});

test('insecure_skip_token_signature_verify decodes without verifying, still checks claims', async () => {
  const v = new JoseTokenVerifier(settings({}, undefined, true), opts());
  const unsigned = `${b64u({ alg: 'none' })}.${b64u(fresh)}.`;
  const r = await v.verifyConnectionToken(unsigned);
  assert.equal(r.ok ? r.claims.user : r.detail, 'user-1');
  const expired = await v.verifyConnectionToken(await signHmacToken({ ...fresh, exp: NOW_S - 5 }, 'whatever'));
  assert.equal(expired.ok ? 'ok' : expired.reason, 'expired');
  assert.equal((await v.verifyConnectionToken('garbage')).ok, false);
});

/** A JWKS endpoint on 127.0.0.1:0 whose key set the test can swap; counts fetches. */
async function jwksServer(t: { after(fn: () => Promise<void>): void }) {
  const state = { body: '{"keys":[]}', status: 200, fetches: 0 };
  const server: Server = createServer((req, res) => {
    state.fetches++;
    res.writeHead(state.status, { 'content-type': 'application/json' });
    res.end(state.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return { url, state };
}

async function jwk(key: KeyObject, kid: string, alg?: string) {
  return { ...(await exportJWK(key)), kid, use: 'sig', ...(alg === undefined ? {} : { alg }) };
}

test('JWKS: RSA, EC and OKP keys by kid, cached, refetched on an unknown kid (rotation)', async (t) => {
  const { url, state } = await jwksServer(t);
  const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
  state.body = JSON.stringify({ keys: [await jwk(rsa.publicKey, 'rsa-1', 'RS256'), await jwk(ec256.publicKey, 'ec-1'), await jwk(ed.publicKey, 'ed-1')] });
  const v = new JoseTokenVerifier(settings({ jwksPublicEndpoint: url }), opts({ jwks: { cooldownMs: 0 } }));

  for (const [key, alg, kid] of [[rsa.privateKey, 'RS256', 'rsa-1'], [ec256.privateKey, 'ES256', 'ec-1'], [ed.privateKey, 'EdDSA', 'ed-1']] as const) {
    const r = await v.verifyConnectionToken(await sign(fresh, key, alg, kid));
    assert.ok(r.ok, `${alg}: ${r.ok ? '' : r.detail}`);
  }
  assert.equal(state.fetches, 1, 'one fetch serves every key');
  for (let i = 0; i < 20; i++) assert.ok((await v.verifyConnectionToken(await sign(fresh, rsa.privateKey, 'RS256', 'rsa-1'))).ok);
  assert.equal(state.fetches, 1, 'cached');

  // Wrong key under a known kid, alg outside the JWK's alg, HS token: all invalid.
  const wrongKey = await v.verifyConnectionToken(await sign(fresh, rsa2.privateKey, 'RS256', 'rsa-1'));
  assert.equal(wrongKey.ok ? 'ok' : wrongKey.reason, 'invalid');
  const wrongAlg = await v.verifyConnectionToken(await sign(fresh, rsa.privateKey, 'RS512', 'rsa-1'));
  assert.equal(wrongAlg.ok ? 'ok' : wrongAlg.reason, 'invalid');
  const hs = await v.verifyConnectionToken(await signHmacToken(fresh, SECRET));
  assert.deepEqual(hs.ok ? 'ok' : hs.detail, 'algorithm HS256 not allowed');

  // Rotation: the issuer starts signing with rsa-2; the verifier refetches and accepts it.
  state.body = JSON.stringify({ keys: [await jwk(rsa2.publicKey, 'rsa-2', 'RS256')] });
  const before = state.fetches;
  const rotated = await v.verifyConnectionToken(await sign(fresh, rsa2.privateKey, 'RS256', 'rsa-2'));
  assert.ok(rotated.ok, rotated.ok ? '' : rotated.detail);
  assert.equal(state.fetches, before + 1);
  // A kid that exists nowhere stays invalid after the refetch.
  const unknown = await v.verifyConnectionToken(await sign(fresh, rsa2.privateKey, 'RS256', 'nope'));
  assert.equal(unknown.ok ? 'ok' : unknown.reason, 'invalid');
});

test('JWKS: a failing endpoint rejects with a temporary internal error, not "invalid token"', async (t) => {
  const { url, state } = await jwksServer(t);
  state.status = 503;
  const v = new JoseTokenVerifier(settings({ jwksPublicEndpoint: url }), opts());
  await assert.rejects(v.verifyConnectionToken(await sign(fresh, rsa.privateKey, 'RS256', 'rsa-1')), (err: unknown) => {
    assert.ok(err instanceof RotorError);
    assert.equal(err.code, 100);
    assert.equal(err.temporary, true);
    return true;
  });
  state.status = 200;
  state.body = 'not json';
  const v2 = new JoseTokenVerifier(settings({ jwksPublicEndpoint: url }), opts());
  await assert.rejects(v2.verifyConnectionToken(await sign(fresh, rsa.privateKey, 'RS256', 'rsa-1')), RotorError);
});

test('JWKS and a static key together: kid picks JWKS, no kid picks the static key', async (t) => {
  const { url, state } = await jwksServer(t);
  const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
  state.body = JSON.stringify({ keys: [await jwk(rsa2.publicKey, 'k2', 'RS256')] });
  const v = new JoseTokenVerifier(settings({ jwksPublicEndpoint: url, rsaPublicKey: rsaPem }), opts());
  assert.ok((await v.verifyConnectionToken(await sign(fresh, rsa.privateKey, 'RS256'))).ok);
  assert.ok((await v.verifyConnectionToken(await sign(fresh, rsa2.privateKey, 'RS256', 'k2'))).ok);
  assert.equal((await v.verifyConnectionToken(await sign(fresh, rsa2.privateKey, 'RS256'))).ok, false);
});
