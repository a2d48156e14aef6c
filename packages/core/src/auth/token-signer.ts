// Issues HMAC-signed tokens, as an application backend would: used by `rotor gentoken` and by
// tests that need real tokens. Not on any server path.
import { SignJWT } from 'jose';

export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512';

/** Signs `claims` (exp, sub, channels, … as given) with the HMAC secret. */
export async function signHmacToken(claims: Record<string, unknown>, secret: string, alg: HmacAlgorithm = 'HS256'): Promise<string> {
  if (secret === '') throw new Error('signHmacToken: empty HMAC secret');
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}
