// Subscription token refresh (PROTOCOL.md §4.8): not subscribed → 103, empty token → 107, expired →
// 109, invalid or for another channel/user/client → disconnect 3500.
import { Disconnects, Errors } from '@rotor/core';
import type { Session } from '../session.ts';
import { SubFlag } from '../subscription.ts';
import type { SubRefreshRequest } from '../wire-types.ts';

export function handleSubRefresh(s: Session, id: number, req: SubRefreshRequest): Promise<void> | undefined {
  const channel = req.channel ?? '';
  if (channel === '') {
    s.disconnect(Disconnects.badRequest);
    return undefined;
  }
  if ((req.type ?? 0) !== 0) {
    s.replyError(id, Errors.notAvailable);
    return undefined;
  }
  const sub = s.subscription(channel);
  if (sub === undefined) {
    s.replyError(id, Errors.permissionDenied);
    return undefined;
  }
  // Extended by the sub_refresh proxy: the server refreshes it, the client may not (§4.8).
  if (sub.has(SubFlag.serverRefresh)) {
    s.disconnect(Disconnects.badRequest);
    return undefined;
  }
  const token = req.token ?? '';
  if (token === '') {
    s.replyError(id, Errors.badRequest);
    return undefined;
  }
  return s.gw.adapters.tokenVerifier.verifySubscriptionToken(token).then((v) => {
    if (s.closed) return;
    if (!v.ok) {
      if (v.reason === 'expired') s.replyError(id, Errors.tokenExpired);
      else s.disconnect(Disconnects.invalidToken);
      return;
    }
    const c = v.claims;
    if (c.channel !== channel || c.user !== s.user || (c.client !== '' && c.client !== s.client)) {
      s.disconnect(Disconnects.invalidToken);
      return;
    }
    // The subscription may have ended while the token was verified.
    if (s.subscription(channel) !== sub) {
      s.replyError(id, Errors.permissionDenied);
      return;
    }
    const now = s.gw.clock.now();
    sub.expireAt = c.expireAt > 0 ? c.expireAt * 1000 : 0;
    if (c.info !== undefined) sub.chanInfo = c.info;
    s.gw.keepalive.subscribed(s, sub);
    s.reply(id, {
      subRefresh: sub.expireAt > 0 ? { expires: true, ttl: Math.max(1, Math.ceil((sub.expireAt - now) / 1000)) } : {},
    });
  });
}
