// Connection token refresh (PROTOCOL.md §4.8). The new token must be valid and for the same user;
// an expired one closes the connection with 3005 (the SDK reconnects with a fresh token).
import { Disconnects } from '@rotor/core';
import type { Session } from '../session.ts';
import type { RefreshRequest } from '../wire-types.ts';
import { ProxyState } from '../proxy/wire.ts';

export function handleRefresh(s: Session, id: number, req: RefreshRequest): Promise<void> | undefined {
  const token = req.token ?? '';
  // With a refresh proxy the server refreshes connections itself (PROTOCOL.md §4.8).
  if (token === '' || s.gw.proxies.refresh !== null) {
    s.disconnect(Disconnects.badRequest);
    return undefined;
  }
  return s.gw.adapters.tokenVerifier.verifyConnectionToken(token).then((v) => {
    if (s.closed) return;
    if (!v.ok) {
      s.disconnect(v.reason === 'expired' ? Disconnects.expired : Disconnects.invalidToken);
      return;
    }
    if (v.claims.user !== s.user) {
      s.disconnect(Disconnects.invalidToken);
      return;
    }
    const now = s.gw.clock.now();
    s.expireAt = v.claims.expireAt > 0 ? v.claims.expireAt * 1000 : 0;
    if (s.expireAt > 0 && s.expireAt <= now) {
      s.disconnect(Disconnects.expired);
      return;
    }
    if (v.claims.info !== undefined) s.connInfo = v.claims.info;
    // A new meta claim replaces the one proxies get (include_connection_meta), as in Centrifugo.
    if (v.claims.meta !== undefined && s.gw.proxies.any) (s.proxy ??= new ProxyState(null)).meta = JSON.stringify(v.claims.meta);
    s.gw.keepalive.expiryChanged(s);
    s.reply(id, {
      refresh: s.expireAt > 0 ? { expires: true, ttl: Math.max(1, Math.ceil((s.expireAt - now) / 1000)) } : {},
    });
  });
}
