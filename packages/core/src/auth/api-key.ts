// Server API key check (HTTP `X-API-Key` / `Authorization: apikey …`, gRPC metadata). Both sides are
// hashed first so the comparison is constant-time over fixed-length digests and leaks neither the
// key's content nor its length.
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Whether `given` equals the configured key `expected`. Always false when no key is configured:
 * an empty key never authenticates anyone (insecure API mode is a separate, explicit switch).
 */
export function apiKeyMatches(expected: string, given: string): boolean {
  if (expected === '') return false;
  // Compare digests always, then the flag, so the time does not depend on `given` being empty.
  const same = timingSafeEqual(digest(expected), digest(given));
  return same && given !== '';
}
