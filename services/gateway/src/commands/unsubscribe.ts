// Client unsubscribe (PROTOCOL.md §4.7): a no-op when not subscribed; otherwise the leave is
// published and presence removed. Always answers `{"unsubscribe":{}}`.
import { Disconnects } from '@rotor/core';
import type { Session } from '../session.ts';
import type { UnsubscribeRequest } from '../wire-types.ts';
import { removeSubscription } from './establish.ts';

export function handleUnsubscribe(s: Session, id: number, req: UnsubscribeRequest): undefined {
  const channel = req.channel ?? '';
  if (channel === '') {
    s.disconnect(Disconnects.badRequest);
    return undefined;
  }
  const sub = s.subscription(channel);
  if (sub !== undefined) removeSubscription(s, sub, true);
  s.reply(id, { unsubscribe: {} });
  return undefined;
}
