// What the channel commands (publish, history, presence, presence_stats) share: resolving the
// command's channel and answering a failed adapter call.
import { Disconnects, RotorError } from '@rotor/core';
import type { ErrorCode, ResolvedChannel } from '@rotor/core';
import type { Session } from '../session.ts';

/**
 * The command's channel, or undefined when the command is already answered: an empty name
 * disconnects with 3501 (bad request), an invalid name or unknown namespace answers its error.
 */
export function commandChannel(s: Session, id: number, channel: string): ResolvedChannel | undefined {
  if (channel === '') {
    s.disconnect(Disconnects.badRequest);
    return undefined;
  }
  const resolved = s.gw.rules.resolve(channel);
  if (!resolved.ok) {
    s.replyError(id, resolved.error);
    return undefined;
  }
  return resolved.channel;
}

/** The client error for a failed adapter call; anything but a RotorError is logged as `what`. */
export function failureOf(s: Session, err: unknown, what: string): ErrorCode {
  if (!(err instanceof RotorError)) s.gw.log.warn(what, { error: String(err) });
  const e = RotorError.from(err);
  return { code: e.code, message: e.message, temporary: e.temporary };
}

/** Answers command `id` with the failure, unless the connection closed meanwhile. */
export function replyFailure(s: Session, id: number, err: unknown, what: string): void {
  if (!s.closed) s.replyError(id, failureOf(s, err, what));
}
