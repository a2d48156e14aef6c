// Namespace permission checks of client commands (PROTOCOL.md §4.4, §4.6, §4.7), as Centrifugo
// applies them. `client.insecure` allows everything; anonymous users additionally need the
// namespace's allow_*_for_anonymous option.
import type { Namespace, RotorConfig } from '@rotor/core';

export interface Principal {
  readonly user: string;
}

function anonymousOk(user: string, allowAnonymous: boolean): boolean {
  return user !== '' || allowAnonymous;
}

export function canPublish(cfg: RotorConfig, ns: Namespace, who: Principal, subscribed: boolean): boolean {
  if (cfg.client.insecure) return true;
  if (!anonymousOk(who.user, ns.allowPublishForAnonymous)) return false;
  return ns.allowPublishForClient || (ns.allowPublishForSubscriber && subscribed);
}

export function canPresence(cfg: RotorConfig, ns: Namespace, who: Principal, subscribed: boolean): boolean {
  if (cfg.client.insecure) return true;
  if (!anonymousOk(who.user, ns.allowPresenceForAnonymous)) return false;
  return ns.allowPresenceForClient || (ns.allowPresenceForSubscriber && subscribed);
}

export function canHistory(cfg: RotorConfig, ns: Namespace, who: Principal, subscribed: boolean): boolean {
  if (cfg.client.insecure) return true;
  if (!anonymousOk(who.user, ns.allowHistoryForAnonymous)) return false;
  return ns.allowHistoryForClient || (ns.allowHistoryForSubscriber && subscribed);
}

/** Client-side subscribe without a token, for a channel that is not user-limited (step 5 of §4.4). */
export function canSubscribeWithoutToken(ns: Namespace, who: Principal): boolean {
  return ns.allowSubscribeForClient && anonymousOk(who.user, ns.allowSubscribeForAnonymous);
}
