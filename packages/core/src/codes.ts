// Wire codes of the Centrifugo protocol (PROTOCOL.md §5), kept as data in one place.
// Errors go in Reply.error, unsubscribe codes in Unsubscribe pushes, disconnect codes in the
// WebSocket close frame (or a Disconnect push on other transports).

export interface ErrorCode {
  readonly code: number;
  readonly message: string;
  /** The SDK retries temporary errors. */
  readonly temporary?: boolean;
}

/** Client error codes 100–113 (Reply.error). */
export const Errors = {
  internal: { code: 100, message: 'internal server error', temporary: true },
  unauthorized: { code: 101, message: 'unauthorized' },
  unknownChannel: { code: 102, message: 'unknown channel' },
  permissionDenied: { code: 103, message: 'permission denied' },
  methodNotFound: { code: 104, message: 'method not found' },
  alreadySubscribed: { code: 105, message: 'already subscribed' },
  limitExceeded: { code: 106, message: 'limit exceeded' },
  badRequest: { code: 107, message: 'bad request' },
  notAvailable: { code: 108, message: 'not available' },
  tokenExpired: { code: 109, message: 'token expired' },
  expired: { code: 110, message: 'expired' },
  tooManyRequests: { code: 111, message: 'too many requests', temporary: true },
  unrecoverablePosition: { code: 112, message: 'unrecoverable position' },
  concurrentPagination: { code: 113, message: 'concurrent pagination', temporary: true },
} as const satisfies Record<string, ErrorCode>;

export type ErrorName = keyof typeof Errors;

export interface UnsubscribeCode {
  readonly code: number;
  readonly reason: string;
}

/** Unsubscribe push codes. Below 2500 the SDK stays unsubscribed; from 2500 it resubscribes. */
export const Unsubscribes = {
  server: { code: 2000, reason: 'server unsubscribe' },
  insufficientState: { code: 2500, reason: 'insufficient state' },
  expired: { code: 2501, reason: 'subscription expired' },
  stateInvalidated: { code: 2502, reason: 'state invalidated' },
} as const satisfies Record<string, UnsubscribeCode>;

/** Whether the SDK resubscribes after an unsubscribe push with this code. */
export function unsubscribeResubscribes(code: number): boolean {
  return code >= 2500;
}

export interface Disconnect {
  readonly code: number;
  readonly reason: string;
}

/** Disconnect codes (WebSocket close frame). 3000–3499 reconnect, 3500–3999 terminal. */
export const Disconnects = {
  connectionClosed: { code: 3000, reason: 'connection closed' },
  shutdown: { code: 3001, reason: 'shutdown' },
  internal: { code: 3004, reason: 'internal server error' },
  expired: { code: 3005, reason: 'connection expired' },
  subExpired: { code: 3006, reason: 'subscription expired' },
  slow: { code: 3008, reason: 'slow' },
  writeError: { code: 3009, reason: 'write error' },
  insufficientState: { code: 3010, reason: 'insufficient state' },
  forceReconnect: { code: 3011, reason: 'force reconnect' },
  noPong: { code: 3012, reason: 'no pong' },
  tooManyRequests: { code: 3013, reason: 'too many requests' },
  stateInvalidated: { code: 3014, reason: 'state invalidated' },
  invalidToken: { code: 3500, reason: 'invalid token' },
  badRequest: { code: 3501, reason: 'bad request' },
  stale: { code: 3502, reason: 'stale' },
  forceNoReconnect: { code: 3503, reason: 'force disconnect' },
  connectionLimit: { code: 3504, reason: 'connection limit' },
  channelLimit: { code: 3505, reason: 'channel limit' },
  inappropriateProtocol: { code: 3506, reason: 'inappropriate protocol' },
  permissionDenied: { code: 3507, reason: 'permission denied' },
  notAvailable: { code: 3508, reason: 'not available' },
  tooManyErrors: { code: 3509, reason: 'too many errors' },
} as const satisfies Record<string, Disconnect>;

export type DisconnectName = keyof typeof Disconnects;

/**
 * Whether an SDK reconnects after a disconnect with this code (PROTOCOL.md §5.3–5.4):
 * 3500–3999 and 4500–4999 are terminal; every other code from 3000 reconnects.
 */
export function disconnectReconnects(code: number): boolean {
  if (code >= 3500 && code < 4000) return false;
  if (code >= 4500 && code < 5000) return false;
  return true;
}

/**
 * The one error type that crosses service boundaries: a client/API error code with an optional
 * message override. Thrown by adapters and services; converted to Reply.error or an API error at
 * the transport edge. Anything else that is thrown is an internal error (100).
 */
export class RotorError extends Error {
  readonly code: number;
  readonly temporary: boolean;

  constructor(error: ErrorCode, message?: string) {
    super(message ?? error.message);
    this.name = 'RotorError';
    this.code = error.code;
    this.temporary = error.temporary ?? false;
  }

  /** Normalises anything thrown into a RotorError (unknown errors become 100 internal). */
  static from(err: unknown): RotorError {
    if (err instanceof RotorError) return err;
    return new RotorError(Errors.internal);
  }
}
