// Token verification throughput (the gateway needs >= 10k connects/s per process).
// Run: node --import tsx packages/core/src/auth/jose-token-verifier.bench.ts [iterations]
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { JoseTokenVerifier } from './jose-token-verifier.ts';
import { signHmacToken } from './token-signer.ts';

const iterations = Math.min(Number(process.argv[2] ?? 50_000), 1_000_000);
const secret = 'bench-secret-0123456789abcdef0123456789';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const blank = { hmacPreviousSecretKey: '', hmacPreviousSecretKeyValidUntil: 0, jwksPublicEndpoint: '', audience: '', audienceRegex: '', issuer: '', issuerRegex: '', userIdClaim: 'sub', insecureSkipJwksEndpointSafetyCheck: false };
const verifier = new JoseTokenVerifier({
  token: {
    ...blank,
    hmacSecretKey: secret,
    rsaPublicKey: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ecdsaPublicKey: ec.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  },
  subscriptionToken: { enabled: false, ...blank, hmacSecretKey: '', rsaPublicKey: '', ecdsaPublicKey: '' },
  insecureSkipTokenSignatureVerify: false,
});

const claims = { sub: 'user-42', exp: Math.floor(Date.now() / 1000) + 3600, info: { name: 'bench' }, channels: ['news', 'chat:lobby'] };
const tokens = {
  HS256: await signHmacToken(claims, secret),
  RS256: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey),
  ES256: await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(ec.privateKey),
};

async function measure(alg: keyof typeof tokens, n: number, concurrency: number): Promise<void> {
  const token = tokens[alg];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) {
        const r = await verifier.verifyConnectionToken(token);
        if (!r.ok) throw new Error(`${alg}: ${r.detail}`);
      }
    }),
  );
  const perSec = Math.round((n / (performance.now() - start)) * 1000);
  console.log(`${alg.padEnd(6)} concurrency ${String(concurrency).padStart(3)}: ${perSec.toLocaleString('en-US').padStart(9)} verifications/s (${n} tokens)`);
}

await measure('HS256', 2_000, 1); // warm-up
await measure('HS256', iterations, 1);
await measure('HS256', iterations, 100);
await measure('RS256', Math.ceil(iterations / 10), 1);
await measure('RS256', Math.ceil(iterations / 10), 100);
await measure('ES256', Math.ceil(iterations / 10), 100);
