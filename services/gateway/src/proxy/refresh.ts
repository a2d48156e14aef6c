// Server-side refresh (PROTOCOL.md §4.1 note, §4.8): when a refresh proxy is enabled, connections
// with an expiry are not refreshed by the client (ConnectResult has no expires/ttl); when the
// expiry comes, the keepalive asks the refresh proxy. Likewise for subscriptions from the subscribe
// proxy in namespaces with sub_refresh_proxy_enabled, with the sub_refresh proxy.
//
// Result `expired: true` (or no result) ends the connection (3005) / subscription (Unsubscribe
// 2501); otherwise expire_at is the new expiry and info/b64info replaces the info. An expiry that
// is not in the future ends them too, as in Centrifugo, instead of asking again at once on every
// keepalive round: for a connection that includes no expire_at (0 leaves the expiry that just
// came), for a subscription only a past one (0 = never expires). A
// backend disconnect closes the connection with it. A failed call or a backend error keeps the
// connection (subscription) for another minute and asks again then, as Centrifugo does, so a
// backend outage does not drop every client.
import { Disconnects, Unsubscribes } from '@rotor/core';
import type { Session } from '../session.ts';
import { SubFlag } from '../subscription.ts';
import type { Subscription } from '../subscription.ts';
import { unsubscribeWithPush } from '../commands/establish.ts';
import { ProxyType } from './caller.ts';
import { ask, badResult } from './ask.ts';
import type { Asked } from './ask.ts';
import { ProxyState, boolField, metaField, payloadField, requestBody, secondsField } from './wire.ts';

/** Grace after a failed refresh call before the next attempt. */
export const REFRESH_RETRY_MS = 60_000;

interface Refreshed {
  expired: boolean;
  /** Unix ms; 0 = never. */
  expireAt: number;
  info: Uint8Array | undefined;
  meta: string | undefined;
}

type RefreshAsked = Exclude<Asked, { kind: 'result' }> | { kind: 'refreshed'; r: Refreshed };

function readRefreshed(s: Session, type: ProxyType, asked: Asked): RefreshAsked {
  if (asked.kind !== 'result') return asked;
  const r = asked.result;
  if (r === null) return { kind: 'refreshed', r: { expired: true, expireAt: 0, info: undefined, meta: undefined } };
  const src = { text: asked.source, path: ['result'] };
  try {
    return {
      kind: 'refreshed',
      r: { expired: boolField(r, 'expired'), expireAt: secondsField(r, 'expire_at') * 1000, info: payloadField(r, 'info', 'b64info', src), meta: metaField(r, src) },
    };
  } catch (err) {
    return badResult(s, type, err) as RefreshAsked;
  }
}

/** The connection's expiry came: ask the refresh proxy. The keepalive skips it while in flight. */
export function refreshConnection(s: Session): void {
  const gw = s.gw;
  const proxy = gw.proxies.refresh;
  if (proxy === null) return;
  const state = (s.proxy ??= new ProxyState(null));
  if (state.refreshing) return;
  state.refreshing = true;
  void ask(s, proxy, ProxyType.refresh, () => requestBody(s, proxy, {})).then((asked) => {
    state.refreshing = false;
    if (s.closed) return;
    const out = readRefreshed(s, ProxyType.refresh, asked);
    if (out.kind === 'disconnect') return s.disconnect(out.disconnect);
    if (out.kind === 'error') {
      s.expireAt = gw.clock.now() + REFRESH_RETRY_MS;
    } else if (out.r.expired || out.r.expireAt <= gw.clock.now()) {
      return s.disconnect(Disconnects.expired);
    } else {
      s.expireAt = out.r.expireAt;
      if (out.r.info !== undefined) s.connInfo = out.r.info;
      if (out.r.meta !== undefined) state.meta = out.r.meta;
      s.refreshed();
    }
    gw.keepalive.expiryChanged(s);
  }).catch((err: unknown) => gw.log.error('connection refresh failed', { client: s.client, error: String(err) }));
}

/** A server-refreshed subscription's expiry came: ask its namespace's sub_refresh proxy. */
export function refreshSubscription(s: Session, sub: Subscription): void {
  if (sub.has(SubFlag.refreshing)) return;
  const gw = s.gw;
  const proxy = gw.proxies.subRefresh(sub.namespace);
  sub.flags |= SubFlag.refreshing;
  void ask(s, proxy, ProxyType.subRefresh, () => requestBody(s, proxy, { channel: sub.channel })).then((asked) => {
    sub.flags &= ~SubFlag.refreshing;
    if (s.closed || s.subscription(sub.channel) !== sub) return;
    const out = readRefreshed(s, ProxyType.subRefresh, asked);
    if (out.kind === 'disconnect') return s.disconnect(out.disconnect);
    if (out.kind === 'error') {
      sub.expireAt = gw.clock.now() + REFRESH_RETRY_MS;
    } else if (out.r.expired || (out.r.expireAt > 0 && out.r.expireAt <= gw.clock.now())) {
      return unsubscribeWithPush(s, sub, Unsubscribes.expired.code, Unsubscribes.expired.reason);
    } else {
      sub.expireAt = out.r.expireAt;
      if (out.r.info !== undefined) sub.chanInfo = out.r.info;
    }
    gw.keepalive.expiryChanged(s);
  }).catch((err: unknown) => gw.log.error('subscription refresh failed', { client: s.client, error: String(err) }));
}
