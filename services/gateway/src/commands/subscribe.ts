// Client-side subscribe (PROTOCOL.md §4.4, §4.5). Validation and permission checks run in
// Centrifugo's order; then the subscription is prepared, the reply written, and the subscription
// attached to the channel's fan-out.
import { Disconnects, Errors, Unsubscribes } from '@rotor/core';
import type { ErrorCode, ResolvedChannel, SubscriptionClaims } from '@rotor/core';
import { JoinOutcome } from '../hub.ts';
import { canHistory, canPresence, canSubscribeWithoutToken } from '../permissions.ts';
import type { Session } from '../session.ts';
import { SubFlag, Subscription } from '../subscription.ts';
import type { SubscribeRequest } from '../wire-types.ts';
import { SubscribeCancelled, establish, prepare, removeSubscription } from './establish.ts';
import { failureOf } from './common.ts';
import { answer } from '../proxy/ask.ts';
import { proxySubscribe } from '../proxy/subscribe.ts';

/** SubscribeRequest.flag bit asking for error 112 instead of recovered=false. */
const FLAG_REJECT_UNRECOVERED = 2;

export function handleSubscribe(s: Session, id: number, req: SubscribeRequest): Promise<void> | undefined {
  const gw = s.gw;
  const channel = req.channel ?? '';
  if (channel === '') {
    s.disconnect(Disconnects.badRequest);
    return undefined;
  }
  const delta = req.delta ?? '';
  if (delta !== '' && delta !== 'fossil') {
    s.disconnect(Disconnects.badRequest);
    return undefined;
  }
  if (channel.length > gw.rules.maxLength) return reject(s, id, Errors.badRequest);
  if (s.subscription(channel) !== undefined) return reject(s, id, Errors.alreadySubscribed);
  if (s.subscriptionCount >= gw.config.client.channelLimit) return reject(s, id, Errors.limitExceeded);
  const resolved = gw.rules.resolve(channel);
  if (!resolved.ok) return reject(s, id, resolved.error);
  const rc = resolved.channel;
  // Map / shared-poll subscriptions and tag filters are not supported (PROTOCOL.md §11).
  if ((req.type ?? 0) !== 0) return reject(s, id, Errors.notAvailable);
  if (req.tf !== undefined) return reject(s, id, rc.namespace.allowTagsFilter ? Errors.notAvailable : Errors.badRequest);

  const token = req.token ?? '';
  if (token === '') {
    if (rc.isPrivate) return reject(s, id, Errors.permissionDenied);
    const err = tokenlessPermission(s, rc);
    if (err === PROXY) return subscribeViaProxy(s, id, req, rc);
    if (err !== null) return reject(s, id, err);
    return subscribe(s, id, req, rc, null);
  }
  return verifyThenSubscribe(s, id, req, rc, token);
}

function reject(s: Session, id: number, err: ErrorCode): undefined {
  s.replyError(id, err);
  return undefined;
}

/** The subscribe proxy decides (permission step 4). */
const PROXY = 'proxy';

/** Steps 3–6 of the permission order for a subscribe without token. */
function tokenlessPermission(s: Session, rc: ResolvedChannel): ErrorCode | null | typeof PROXY {
  const gw = s.gw;
  if (gw.rules.isUserAllowed(rc, s.user)) return null;
  if (rc.namespace.subscribeProxyEnabled && !rc.userLimited) return PROXY;
  if (rc.namespace.subscribeStreamProxyEnabled && !rc.userLimited) return Errors.notAvailable;
  if (!rc.userLimited && canSubscribeWithoutToken(rc.namespace, s)) return null;
  if (gw.config.client.insecure) return null;
  return Errors.permissionDenied;
}

async function verifyThenSubscribe(s: Session, id: number, req: SubscribeRequest, rc: ResolvedChannel, token: string): Promise<void> {
  const v = await s.gw.adapters.tokenVerifier.verifySubscriptionToken(token);
  if (s.closed) return;
  if (!v.ok) {
    s.replyError(id, v.reason === 'expired' ? Errors.tokenExpired : Errors.permissionDenied);
    return;
  }
  const c = v.claims;
  if (c.channel !== rc.channel || c.user !== s.user || (c.client !== '' && c.client !== s.client)) {
    s.disconnect(Disconnects.invalidToken);
    return;
  }
  await subscribe(s, id, req, rc, c);
}

async function subscribeViaProxy(s: Session, id: number, req: SubscribeRequest, rc: ResolvedChannel): Promise<void> {
  const asked = await proxySubscribe(s, s.gw.proxies.subscribe(rc.namespace), rc.channel, req.data);
  if (s.closed) return;
  if (asked.kind !== 'claims') {
    answer(s, id, asked);
    return;
  }
  // A subscription the sub_refresh proxy extends is refreshed by the server (PROTOCOL.md §4.8).
  await subscribe(s, id, req, rc, asked.claims, rc.namespace.subRefreshProxyEnabled);
}

async function subscribe(
  s: Session,
  id: number,
  req: SubscribeRequest,
  rc: ResolvedChannel,
  claims: SubscriptionClaims | null,
  serverRefresh = false,
): Promise<void> {
  const gw = s.gw;
  const cfg = gw.config;
  // A server-side subscribe (server API) may have taken the channel, or a slot, while the token
  // or the proxy was awaited: the first subscription stays.
  if (s.subscription(rc.channel) !== undefined) {
    s.replyError(id, Errors.alreadySubscribed);
    return;
  }
  if (s.subscriptionCount >= cfg.client.channelLimit) {
    s.replyError(id, Errors.limitExceeded);
    return;
  }
  const ns = rc.namespace;
  const override = claims?.override;
  const now = gw.clock.now();
  const expireAt = claims !== null && claims.expireAt > 0 ? claims.expireAt * 1000 : 0;
  if (expireAt > 0 && expireAt <= now) {
    s.replyError(id, Errors.expired);
    return;
  }
  // A subscriber may read history and presence where the namespace allows it for subscribers.
  const historyAccess = canHistory(cfg, ns, s, true);
  const presenceAccess = canPresence(cfg, ns, s, true);
  const history = ns.historyEnabled;
  const recoverable =
    history && ((req.recoverable === true && (ns.allowRecovery || historyAccess)) || ns.forceRecovery || override?.forceRecovery === true);
  const positioned =
    recoverable ||
    (history && ((req.positioned === true && (ns.allowPositioning || historyAccess)) || ns.forcePositioning || override?.forcePositioning === true));
  const pushJoinLeave =
    (req.joinLeave === true && ns.joinLeave && presenceAccess) || ns.forcePushJoinLeave || override?.forcePushJoinLeave === true;
  let flags = 0;
  if (positioned) flags |= SubFlag.positioned;
  if (recoverable) flags |= SubFlag.recoverable;
  if (pushJoinLeave) flags |= SubFlag.pushJoinLeave;
  if (override?.presence ?? ns.presence) flags |= SubFlag.presence;
  if (override?.joinLeave ?? ns.joinLeave) flags |= SubFlag.joinLeave;
  if (serverRefresh && expireAt > 0) flags |= SubFlag.serverRefresh;

  const sub = new Subscription(s, rc.channel, ns, flags);
  sub.chanInfo = claims?.info;
  sub.expireAt = expireAt;
  s.addSubscription(sub);

  const recover = recoverable && req.recover === true ? { offset: req.offset ?? 0, epoch: req.epoch ?? '' } : null;
  let prepared;
  try {
    prepared = await prepare(s, sub, {
      recover,
      rejectUnrecovered: ((req.flag ?? 0) & FLAG_REJECT_UNRECOVERED) !== 0,
      data: claims?.data,
    });
  } catch (err) {
    if (s.closed || err instanceof SubscribeCancelled) return;
    removeSubscription(s, sub, true);
    s.replyError(id, failureOf(s, err, 'subscribe failed'));
    return;
  }
  if (s.closed || s.subscription(rc.channel) !== sub) return;
  s.reply(id, { subscribe: prepared.result });
  // The reply must be on the wire before the channel's first publication.
  s.flushOut();
  const outcome = establish(s, sub, prepared);
  if (outcome === JoinOutcome.insufficient && !s.closed) {
    removeSubscription(s, sub, true);
    s.push({ channel: rc.channel, unsubscribe: { code: Unsubscribes.insufficientState.code, reason: Unsubscribes.insufficientState.reason } });
  }
}
