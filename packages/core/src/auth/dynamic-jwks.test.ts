// Templated ("dynamic") JWKS endpoints: real HTTP JWKS servers on 127.0.0.1:0, real keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT } from 'jose';
import { ConfigError, loadConfig } from '../config/load.ts';
import { defaultConfig } from '../config/load.ts';
import type { TokenConfig } from '../config/types.ts';
import { JoseTokenVerifier, type TokenVerifierSettings } from './jose-token-verifier.ts';
import { JwksTemplate, checkJwksEndpoint } from './jwks-template.ts';

const NOW_S = 1_800_000_000;
const clock = { now: (): number => NOW_S * 1000 };
const fresh = { sub: 'user-1', exp: NOW_S + 3600 };

function tokenConfig(over: Partial<TokenConfig>): TokenConfig {
  return { ...defaultConfig().client.token, ...over };
}

function settings(token: Partial<TokenConfig>): TokenVerifierSettings {
  return { token: tokenConfig(token), subscriptionToken: { enabled: false, ...tokenConfig({}) }, insecureSkipTokenSignatureVerify: false };
}

const ecKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

async function sign(claims: Record<string, unknown>, key: KeyObject, kid = 'k1'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid }).sign(key);
}

async function jwksBody(keys: Array<[KeyObject, string]>): Promise<string> {
  return JSON.stringify({ keys: await Promise.all(keys.map(async ([k, kid]) => ({ ...(await exportJWK(k)), kid, alg: 'ES256', use: 'sig' }))) });
}

/**
 * One JWKS server for many tenants: `bodies` maps a raw request path to its key set; any other
 * path answers an empty key set. Every raw request path is logged.
 */
async function jwksServer(t: { after(fn: () => Promise<void>): void }) {
  const bodies = new Map<string, string>();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    requests.push(path);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(bodies.get(path) ?? '{"keys":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const count = (path: string): number => requests.filter((r) => r === path).length;
  return { base, bodies, requests, count };
}

const outcome = (r: { ok: boolean; reason?: string; detail?: string }): string => (r.ok ? 'ok' : `${r.reason}: ${r.detail}`);

test('two tenants publish the same kid with different keys: each token verifies only with its own endpoint', async (t) => {
  const srv = await jwksServer(t);
  const acme = ecKey();
  const globex = ecKey();
  srv.bodies.set('/tenants/acme/jwks', await jwksBody([[acme.publicKey, 'k1']]));
  srv.bodies.set('/tenants/globex/jwks', await jwksBody([[globex.publicKey, 'k1']]));
  const v = new JoseTokenVerifier(
    settings({ jwksPublicEndpoint: `${srv.base}/tenants/{{tenant}}/jwks`, issuerRegex: '^https://idp\\.example\\.com/(?P<tenant>acme|globex)$' }),
    { clock, jwks: { cooldownMs: 0 } },
  );
  const iss = (tenant: string) => `https://idp.example.com/${tenant}`;

  // Tenant A's key (kid k1) gets cached first …
  const a = await v.verifyConnectionToken(await sign({ ...fresh, iss: iss('acme') }, acme.privateKey));
  assert.equal(outcome(a), 'ok');
  // … and must not verify a token claiming tenant B, though B's key set has the same kid.
  const forged = await v.verifyConnectionToken(await sign({ ...fresh, iss: iss('globex'), sub: 'globex-admin' }, acme.privateKey));
  assert.equal(forged.ok ? 'ok' : forged.reason, 'invalid');
  const b = await v.verifyConnectionToken(await sign({ ...fresh, iss: iss('globex') }, globex.privateKey));
  assert.equal(outcome(b), 'ok');
  const forgedBack = await v.verifyConnectionToken(await sign({ ...fresh, iss: iss('acme') }, globex.privateKey));
  assert.equal(forgedBack.ok ? 'ok' : forgedBack.reason, 'invalid');
  // Subscription tokens go through the same per-endpoint key sets.
  const sub = await v.verifySubscriptionToken(await sign({ ...fresh, iss: iss('globex'), channel: 'news' }, globex.privateKey));
  assert.equal(outcome(sub), 'ok');
  const subForged = await v.verifySubscriptionToken(await sign({ ...fresh, iss: iss('globex'), channel: 'news' }, acme.privateKey));
  assert.equal(subForged.ok ? 'ok' : subForged.reason, 'invalid');

  // One fetch per endpoint (a bad signature with a known kid does not refetch past the cooldown
  // of 0 more than the key set already allows), and nothing fetched anywhere else.
  assert.deepEqual([...new Set(srv.requests)].sort(), ['/tenants/acme/jwks', '/tenants/globex/jwks']);
  assert.equal(v.cachedJwksEndpoints, 2);
});

test('a token whose iss does not match issuer_regex is invalid, with no request to any server', async (t) => {
  const srv = await jwksServer(t);
  const acme = ecKey();
  srv.bodies.set('/tenants/acme/jwks', await jwksBody([[acme.publicKey, 'k1']]));
  const v = new JoseTokenVerifier(
    settings({ jwksPublicEndpoint: `${srv.base}/tenants/{{tenant}}/jwks`, issuerRegex: '^https://idp\\.example\\.com/(?P<tenant>acme|globex)$' }),
    { clock },
  );
  const claimsList: Array<Record<string, unknown>> = [
    { ...fresh, iss: 'https://idp.example.com/initech' },
    { ...fresh, iss: 'https://evil.example.com/acme' },
    { ...fresh },
    { ...fresh, iss: 42 },
    { ...fresh, iss: ['https://idp.example.com/acme'] },
  ];
  for (const claims of claimsList) {
    const r = await v.verifyConnectionToken(await sign(claims, acme.privateKey));
    assert.equal(r.ok ? 'ok' : r.reason, 'invalid', JSON.stringify(claims));
    assert.match(r.ok ? '' : r.detail, /do not match the regex that provides \{\{tenant\}\}/);
    const s = await v.verifySubscriptionToken(await sign({ ...claims, channel: 'news' }, acme.privateKey));
    assert.equal(s.ok ? 'ok' : s.reason, 'invalid');
  }
  assert.deepEqual(srv.requests, []);
  assert.equal(v.cachedJwksEndpoints, 0);
  // The control: a matching iss is fetched and verified.
  assert.equal(outcome(await v.verifyConnectionToken(await sign({ ...fresh, iss: 'https://idp.example.com/acme' }, acme.privateKey))), 'ok');
  assert.deepEqual(srv.requests, ['/tenants/acme/jwks']);
});

test('variables from audience_regex ((?<name>) syntax), and from both regexes together', async (t) => {
  const srv = await jwksServer(t);
  const chat = ecKey();
  const euChat = ecKey();
  srv.bodies.set('/apps/chat/jwks', await jwksBody([[chat.publicKey, 'k1']]));
  srv.bodies.set('/eu/chat/jwks', await jwksBody([[euChat.publicKey, 'k1']]));

  const byAud = new JoseTokenVerifier(settings({ jwksPublicEndpoint: `${srv.base}/apps/{{app}}/jwks`, audienceRegex: '^rotor-(?<app>chat|feed)$' }), { clock });
  // The first audience matching the regex supplies the value.
  assert.equal(outcome(await byAud.verifyConnectionToken(await sign({ ...fresh, aud: ['other', 'rotor-chat'] }, chat.privateKey))), 'ok');
  const noAud = await byAud.verifyConnectionToken(await sign({ ...fresh, aud: ['other'] }, chat.privateKey));
  assert.equal(noAud.ok ? 'ok' : noAud.reason, 'invalid');
  assert.deepEqual(srv.requests, ['/apps/chat/jwks']);

  const both = new JoseTokenVerifier(
    settings({
      jwksPublicEndpoint: `${srv.base}/{{region}}/{{app}}/jwks`,
      issuerRegex: '^https://(?P<region>eu|us)\\.idp\\.example\\.com$',
      audienceRegex: '^rotor-(?P<app>chat|feed)$',
    }),
    { clock },
  );
  const ok = await both.verifyConnectionToken(await sign({ ...fresh, iss: 'https://eu.idp.example.com', aud: 'rotor-chat' }, euChat.privateKey));
  assert.equal(outcome(ok), 'ok');
  // Only one of the two variables available: invalid, nothing fetched.
  const before = srv.requests.length;
  const half = await both.verifyConnectionToken(await sign({ ...fresh, iss: 'https://eu.idp.example.com', aud: 'nope' }, euChat.privateKey));
  assert.equal(half.ok ? 'ok' : half.reason, 'invalid');
  assert.equal(srv.requests.length, before);

  // A variable both regexes capture must agree.
  const clash = new JoseTokenVerifier(
    settings({ jwksPublicEndpoint: `${srv.base}/{{tenant}}/jwks`, issuerRegex: '^(?P<tenant>a|b)$', audienceRegex: '^(?P<tenant>a|b)$' }),
    { clock },
  );
  const disagree = await clash.verifyConnectionToken(await sign({ ...fresh, iss: 'a', aud: 'b' }, chat.privateKey));
  assert.match(disagree.ok ? 'ok' : disagree.detail, /iss and aud give different values/);
  assert.equal(srv.requests.length, before);
});

test('captured values are escaped: "/", "..", "?" and "%" in iss cannot reach another path', async (t) => {
  const srv = await jwksServer(t);
  const attacker = ecKey();
  // Key sets the attacker would like the verifier to use.
  const attackerSet = await jwksBody([[attacker.publicKey, 'k1']]);
  for (const p of ['/admin/jwks', '/jwks', '/tenants/jwks', '/tenants/x/jwks']) srv.bodies.set(p, attackerSet);
  const v = new JoseTokenVerifier(
    // Deliberately permissive: the group accepts anything.
    settings({ jwksPublicEndpoint: `${srv.base}/tenants/{{tenant}}/jwks`, issuerRegex: '^https://idp\\.example\\.com/(?P<tenant>.*)$', insecureSkipJwksEndpointSafetyCheck: true }),
    { clock },
  );
  const hostile = ['../admin', '../../admin', 'x/../../admin', '..', '.', '%2e%2e', '%2E.', '', 'x?a=/admin/jwks#', 'x#/../../jwks', 'x\\..\\..\\admin', '@evil.example.com'];
  for (const tenant of hostile) {
    const r = await v.verifyConnectionToken(await sign({ ...fresh, iss: `https://idp.example.com/${tenant}` }, attacker.privateKey));
    assert.equal(r.ok ? 'ok' : r.reason, 'invalid', tenant);
  }
  // Every request stayed one encoded segment under /tenants/, and ".", ".." and "" fetched nothing.
  for (const path of srv.requests) assert.match(path, /^\/tenants\/[^/?#]+\/jwks$/, path);
  assert.ok(!srv.requests.includes('/admin/jwks') && !srv.requests.includes('/jwks') && !srv.requests.includes('/tenants/x/jwks'));
  assert.ok(srv.requests.includes('/tenants/..%2Fadmin/jwks'), srv.requests.join(' '));
  assert.ok(srv.requests.includes('/tenants/%252e%252e/jwks'), srv.requests.join(' '));
  assert.equal(srv.requests.length, hostile.length - 3, srv.requests.join(' '));
});

test('the number of cached endpoints is bounded; the least recently used is evicted and refetched', async (t) => {
  const srv = await jwksServer(t);
  const keys = new Map<string, ReturnType<typeof ecKey>>();
  for (let i = 0; i < 10; i++) {
    const k = ecKey();
    keys.set(`t${i}`, k);
    srv.bodies.set(`/t/t${i}/jwks`, await jwksBody([[k.publicKey, 'k1']]));
  }
  const v = new JoseTokenVerifier(settings({ jwksPublicEndpoint: `${srv.base}/t/{{tenant}}/jwks`, issuerRegex: '^(?P<tenant>t[0-9]+)$', insecureSkipJwksEndpointSafetyCheck: true }), {
    clock,
    jwks: { maxEndpoints: 3 },
  });
  const verify = async (tenant: string) => {
    const key = keys.get(tenant);
    assert.ok(key);
    return outcome(await v.verifyConnectionToken(await sign({ ...fresh, iss: tenant }, key.privateKey)));
  };
  for (let i = 0; i < 10; i++) {
    assert.equal(await verify(`t${i}`), 'ok');
    assert.ok(v.cachedJwksEndpoints <= 3);
  }
  assert.equal(v.cachedJwksEndpoints, 3);
  assert.equal(srv.requests.length, 10);
  // t7..t9 are cached: no fetch. Using t7 makes t8 the oldest.
  assert.equal(await verify('t7'), 'ok');
  assert.equal(srv.requests.length, 10);
  // t0 was evicted: fetched again (evicting t8), still verified with t0's own keys.
  assert.equal(await verify('t0'), 'ok');
  assert.equal(srv.count('/t/t0/jwks'), 2);
  assert.equal(await verify('t9'), 'ok');
  assert.equal(srv.count('/t/t9/jwks'), 1);
  assert.equal(await verify('t8'), 'ok');
  assert.equal(srv.count('/t/t8/jwks'), 2);
  assert.equal(v.cachedJwksEndpoints, 3);
});

test('config: templated endpoints are checked against the regexes and the host', () => {
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig({ env, hostname: 'h' });
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return [...err.problems];
    }
    return [];
  };
  const endpoint = 'ROTOR_CLIENT_TOKEN_JWKS_PUBLIC_ENDPOINT';
  const issuer = 'ROTOR_CLIENT_TOKEN_ISSUER_REGEX';
  const audience = 'ROTOR_CLIENT_TOKEN_AUDIENCE_REGEX';
  const key = `client.token.jwks_public_endpoint (from ${endpoint}): `;

  assert.deepEqual(problemsOf({ [endpoint]: 'https://idp.example.com/{{tenant}}/jwks', [issuer]: '^(?P<tenant>a|b)$' }), []);
  assert.deepEqual(problemsOf({ [endpoint]: 'https://idp.example.com/{{ tenant }}/{{app}}?v={{app}}', [issuer]: '^(?<tenant>a)$', [audience]: '(?P<app>x)' }), []);
  const cases: Array<[Record<string, string>, string]> = [
    [{ [endpoint]: 'https://idp.example.com/{{tenant}}/jwks' }, 'template variable {{tenant}} is not a named group of issuer_regex or audience_regex'],
    [{ [endpoint]: 'https://idp.example.com/{{tenant}}/{{app}}', [issuer]: '^(?P<tenant>a)$', [audience]: '^(?P<other>a)$' }, 'template variable {{app}} is not a named group'],
    [{ [endpoint]: 'https://idp.example.com/{{a}}/{{b}}', [issuer]: '^(a)(b)$' }, 'template variables {{a}}, {{b}} are not named groups'],
    [{ [endpoint]: 'https://{{tenant}}.example.com/jwks', [issuer]: '^(?P<tenant>a)$' }, 'variables are not allowed in the scheme, host or port'],
    [{ [endpoint]: 'https://idp.example.com{{tenant}}/jwks', [issuer]: '^(?P<tenant>a)$' }, 'variables are not allowed in the scheme, host or port'],
    [{ [endpoint]: 'https://user{{tenant}}@idp.example.com/jwks', [issuer]: '^(?P<tenant>a)$' }, 'variables are not allowed in the scheme, host or port'],
    [{ [endpoint]: 'https://idp.example.com/{{ten-ant}}', [issuer]: '^(?P<tenant>a)$' }, 'invalid template variable {{ten-ant}}'],
    [{ [endpoint]: 'https://idp.example.com/{{tenant}}}}', [issuer]: '^(?P<tenant>a)$' }, 'unbalanced {{ or }}'],
  ];
  for (const [env, problem] of cases) {
    const problems = problemsOf(env);
    assert.ok(problems.some((p) => p.startsWith(key + problem)), `${problem}\n${problems.join('\n')}`);
  }
  // The subscription_token section is checked with its own regexes, and named in the error.
  const sub = problemsOf({
    ROTOR_CLIENT_SUBSCRIPTION_TOKEN_ENABLED: 'true',
    ROTOR_CLIENT_SUBSCRIPTION_TOKEN_JWKS_PUBLIC_ENDPOINT: 'https://idp.example.com/{{tenant}}',
    [issuer]: '^(?P<tenant>a)$',
  });
  assert.ok(sub.some((p) => p.startsWith('client.subscription_token.jwks_public_endpoint (from ROTOR_CLIENT_SUBSCRIPTION_TOKEN_JWKS_PUBLIC_ENDPOINT): template variable {{tenant}}')), sub.join('\n'));

  // The verifier refuses what the loader refuses.
  assert.throws(() => new JoseTokenVerifier(settings({ jwksPublicEndpoint: 'https://idp.example.com/{{tenant}}' })), /jwks_public_endpoint: template variable \{\{tenant\}\}/);
  assert.throws(() => new JoseTokenVerifier(settings({ jwksPublicEndpoint: 'https://{{t}}.example.com/', issuerRegex: '(?P<t>a)' })), /host/);
});

test('template resolution is pure and keeps the configured origin', () => {
  const template = JwksTemplate.parse('https://Idp.Example.com:443/t/{{tenant}}/jwks?app={{app}}');
  assert.ok(template);
  assert.deepEqual(template.variables, ['tenant', 'app']);
  assert.equal(template.origin, 'https://idp.example.com');
  const sources = { issuerRegex: /^(?<tenant>.*)$/, audienceRegex: /^(?<app>.*)$/ };
  assert.equal(template.resolve({ iss: 'a b/c', aud: 'x&y=1#z' }, sources), 'https://idp.example.com/t/a%20b%2Fc/jwks?app=x%26y%3D1%23z');
  assert.deepEqual(template.resolve({ iss: '..', aud: 'x' }, sources), { error: 'the resolved JWKS endpoint has a . or .. path segment' });
  // In the query a "." is an ordinary value.
  assert.equal(template.resolve({ iss: 'a', aud: '..' }, sources), 'https://idp.example.com/t/a/jwks?app=..');
  assert.equal(JwksTemplate.parse('https://idp.example.com/jwks'), null);
  assert.equal(checkJwksEndpoint('https://idp.example.com/jwks', '', ''), null);
});

test('safety check: a template variable must come from a group of fixed values unless insecure_skip_jwks_endpoint_safety_check', () => {
  const endpoint = 'https://idp.example.com/t/{{tenant}}/jwks';
  for (const group of ['acme', 'acme|globex', 'a-b|c_d|e\\.f']) {
    assert.equal(checkJwksEndpoint(endpoint, `^https://idp\\.example\\.com/(?P<tenant>${group})$`, ''), null, group);
    assert.equal(checkJwksEndpoint(endpoint, '', `^(?<tenant>${group})$`), null, group);
  }
  for (const group of ['.*', '[a-z]+', 't[0-9]+', 'acme|.+', '(?:acme|globex)', 'a(b)']) {
    const problem = checkJwksEndpoint(endpoint, `^(?P<tenant>${group})$`, '');
    assert.match(problem ?? '', /must list fixed values/, group);
    assert.equal(checkJwksEndpoint(endpoint, `^(?P<tenant>${group})$`, '', false), null, group);
  }
  // A variable captured by both regexes: both groups must be fixed lists.
  assert.match(checkJwksEndpoint(endpoint, '^(?P<tenant>acme)$', '^(?P<tenant>.*)$') ?? '', /must list fixed values/);

  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig({ env, hostname: 'h' });
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return [...err.problems];
    }
    return [];
  };
  const open = { ROTOR_CLIENT_TOKEN_JWKS_PUBLIC_ENDPOINT: endpoint, ROTOR_CLIENT_TOKEN_ISSUER_REGEX: '^(?P<tenant>[a-z]+)$' };
  assert.equal(problemsOf(open).length, 1);
  assert.match(problemsOf(open)[0] ?? '', /^client\.token\.jwks_public_endpoint .*must list fixed values/);
  assert.deepEqual(problemsOf({ ...open, ROTOR_CLIENT_TOKEN_INSECURE_SKIP_JWKS_ENDPOINT_SAFETY_CHECK: 'true' }), []);
  assert.throws(() => new JoseTokenVerifier(settings({ jwksPublicEndpoint: endpoint, issuerRegex: '^(?P<tenant>.*)$' })), /must list fixed values/);
});
