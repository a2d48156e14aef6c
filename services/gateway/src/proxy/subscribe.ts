// The subscribe proxy (PROTOCOL.md §4.4 step 4): the backend allows a subscription without token
// in a namespace with subscribe_proxy_enabled. SubscribeResult fields: info/b64info (channel info
// in presence and join/leave), data/b64data (SubscribeResult.data to the client), override
// (presence, join_leave, force_recovery, force_positioning, force_push_join_leave) and expire_at
// (Unix s; refreshed by the client unless the namespace has sub_refresh_proxy_enabled).
import type { SubscriptionClaims } from '@rotor/core';
import type { Session } from '../session.ts';
import { ProxyType } from './caller.ts';
import type { HttpProxy } from './caller.ts';
import { ask, badResult } from './ask.ts';
import type { Asked } from './ask.ts';
import { overrideField, payloadField, requestBody, secondsField } from './wire.ts';
import type { Source } from './wire.ts';

export type SubscribeAsked = Exclude<Asked, { kind: 'result' }> | { kind: 'claims'; claims: SubscriptionClaims };

export async function proxySubscribe(s: Session, proxy: HttpProxy, channel: string, data: Uint8Array | undefined): Promise<SubscribeAsked> {
  const asked = await ask(s, proxy, ProxyType.subscribe, () => requestBody(s, proxy, { channel }, data));
  if (asked.kind !== 'result') return asked;
  const r = asked.result ?? {};
  try {
    const claims: SubscriptionClaims = { user: s.user, channel, client: '', expireAt: secondsField(r, 'expire_at') };
    const src: Source = { text: asked.source, path: ['result'] };
    const info = payloadField(r, 'info', 'b64info', src);
    if (info !== undefined) claims.info = info;
    const d = payloadField(r, 'data', 'b64data', src);
    if (d !== undefined) claims.data = d;
    const override = overrideField(r);
    if (override !== undefined) claims.override = override;
    return { kind: 'claims', claims };
  } catch (err) {
    return badResult(s, ProxyType.subscribe, err) as SubscribeAsked;
  }
}
