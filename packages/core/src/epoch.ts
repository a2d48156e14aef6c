// Stream epochs: an opaque 8-letter random string naming one continuous life of a channel stream
// (PROTOCOL.md §4.5). A new epoch tells recovering clients that offsets restarted.
import { randomBytes } from 'node:crypto';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Largest multiple of 52 that fits in a byte: bytes at or above it are rejected to avoid bias. */
const UNBIASED_LIMIT = 208;
export const EPOCH_LENGTH = 8;

/** A fresh random epoch from the crypto RNG, different from `previous` when given. */
export function newEpoch(previous?: string): string {
  for (;;) {
    let out = '';
    while (out.length < EPOCH_LENGTH) {
      for (const b of randomBytes(EPOCH_LENGTH * 2)) {
        if (b >= UNBIASED_LIMIT) continue;
        out += LETTERS[b % LETTERS.length];
        if (out.length === EPOCH_LENGTH) break;
      }
    }
    if (out !== previous) return out;
  }
}
