// The one exception type of the wire runtime. Generated decoders throw it deep inside recursive
// reads (unwinding is the cheapest way out of a malformed message); every public entry point that
// takes untrusted bytes (frames.ts, stream.ts, message.ts `tryDecode*`) catches it and returns a
// typed error value instead.

export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** Largest integer a JS number holds exactly; 64-bit wire values above it are decode errors. */
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Nesting limit for messages inside messages (a recursive FilterNode, for instance). Centrifugo's
 * own messages nest at most 5 deep; the Go protobuf runtime allows 10000, which JS recursion would
 * not survive.
 */
export const MAX_MESSAGE_DEPTH = 64;

/** Nesting limit for arrays/objects inside a raw JSON payload (skipped iteratively, no recursion). */
export const MAX_RAW_JSON_DEPTH = 1000;
