// Connect (PROTOCOL.md §4.1, §4.9): authenticate, apply connection limits, establish the
// server-side subscriptions named by the token (with recovery hints from ConnectRequest.subs), and
// answer with the client id, ping settings, expiry and the subscriptions' results.
//
// A connect answered with an error reply leaves the connection unusable (state `failed`): later
// commands close it with 3501, and the stale check closes it if the client does not.
import { Disconnects, Errors } from '@rotor/core';
import type { ErrorCode, TokenSubOptions } from '@rotor/core';
import { JoinOutcome } from '../hub.ts';
import { proxyConnect } from '../proxy/connect.ts';
import { ProxyState } from '../proxy/wire.ts';
import { canSubscribeWithoutToken } from '../permissions.ts';
import type { Session } from '../session.ts';
import { SessionState } from '../session.ts';
import { SubFlag, Subscription } from '../subscription.ts';
import type { ConnectRequest, ConnectResult, SubscribeResult } from '../wire-types.ts';
import { SubscribeCancelled, establish, prepare, removeSubscription } from './establish.ts';
import type { Prepared } from './establish.ts';
import { failureOf } from './common.ts';
import { EmulatedSocket } from '../emulation/stream.ts';

export async function handleConnect(s: Session, id: number, req: ConnectRequest): Promise<void> {
  const gw = s.gw;
  const cfg = gw.config.client;
  let user = '';
  let expireAtSec = 0;
  let info: Uint8Array | undefined;
  let tokenSubs: Map<string, TokenSubOptions> | null = null;
  let connectData: Uint8Array | undefined;
  let credentials = false;
  const token = req.token ?? '';
  if (token !== '') {
    credentials = true;
    const v = await gw.adapters.tokenVerifier.verifyConnectionToken(token);
    if (s.closed) return;
    if (!v.ok) {
      if (v.reason === 'expired') failConnect(s, id, Errors.tokenExpired);
      else s.disconnect(Disconnects.invalidToken);
      return;
    }
    user = v.claims.user;
    expireAtSec = v.claims.expireAt;
    info = v.claims.info;
    tokenSubs = v.claims.subs;
    if (user === '' && cfg.disallowAnonymousConnectionTokens) {
      s.disconnect(Disconnects.permissionDenied);
      return;
    }
    // The server-only meta claim goes to proxies with include_connection_meta (PROTOCOL.md §8).
    if (v.claims.meta !== undefined && gw.proxies.any) (s.proxy ??= new ProxyState(null)).meta = JSON.stringify(v.claims.meta);
  } else if (gw.proxies.connect !== null) {
    // Authentication order (PROTOCOL.md §4.1): token, then the connect proxy, then anonymous.
    const asked = await proxyConnect(s, gw.proxies.connect, req);
    if (s.closed) return;
    if (asked.kind === 'disconnect') {
      s.disconnect(asked.disconnect);
      return;
    }
    if (asked.kind === 'error') {
      failConnect(s, id, asked.error);
      return;
    }
    if (asked.credentials !== null) {
      const c = asked.credentials;
      credentials = true;
      user = c.user;
      expireAtSec = c.expireAt;
      info = c.info;
      connectData = c.data;
      tokenSubs = c.subs;
      // Sessions of other transports may have no proxy state yet (no headers were captured).
      if (c.meta !== undefined) (s.proxy ??= new ProxyState(null)).meta = c.meta;
    }
  }
  if (!credentials && !(cfg.allowAnonymousConnectWithoutToken || cfg.insecure)) {
    // No credentials at all.
    s.disconnect(Disconnects.badRequest);
    return;
  }
  const now = gw.clock.now();
  const expireAt = expireAtSec > 0 ? expireAtSec * 1000 : 0;
  if (expireAt > 0 && expireAt <= now) {
    failConnect(s, id, Errors.expired);
    return;
  }
  if (cfg.connectionLimit > 0 && gw.clients.size >= cfg.connectionLimit) {
    s.disconnect(Disconnects.connectionLimit);
    return;
  }
  if (user !== '' && cfg.userConnectionLimit > 0 && gw.userConnections(user) >= cfg.userConnectionLimit) {
    s.disconnect(Disconnects.connectionLimit);
    return;
  }

  // Server-side subscriptions: the token's channels/subs plus the personal channel.
  const channels = new Map<string, TokenSubOptions>(tokenSubs ?? []);
  const personal = cfg.subscribeToUserPersonalChannel;
  if (personal.enabled && user !== '') {
    const ch = gw.rules.personalChannel(user, personal.personalChannelNamespace);
    if (!channels.has(ch)) channels.set(ch, {});
  }
  // Server-side channels the client remembers (ConnectRequest.subs, e.g. added earlier through the
  // server API) come back only where it could subscribe by itself (PROTOCOL.md §4.9).
  if (req.subs !== undefined) {
    for (const channel of Object.keys(req.subs)) {
      if (channels.has(channel)) continue;
      const r = gw.rules.resolve(channel);
      if (!r.ok || r.channel.isPrivate || r.channel.namespace.subscribeProxyEnabled) continue;
      const rc = r.channel;
      const allowed =
        gw.rules.isUserAllowed(rc, user) || (!rc.userLimited && canSubscribeWithoutToken(rc.namespace, { user })) || cfg.insecure;
      if (allowed) channels.set(channel, {});
    }
  }
  if (channels.size > cfg.channelLimit) {
    s.disconnect(Disconnects.channelLimit);
    return;
  }
  const subs: Subscription[] = [];
  for (const [channel, opts] of channels) {
    const resolved = gw.rules.resolve(channel);
    if (!resolved.ok) {
      failConnect(s, id, resolved.error);
      return;
    }
    subs.push(serverSideSubscription(s, channel, resolved.channel.namespace, opts));
  }

  s.user = user;
  s.connInfo = info;
  s.expireAt = expireAt;
  s.state = SessionState.connected;
  gw.addUserSession(s);

  let prepared: Prepared[] = [];
  if (subs.length > 0) {
    for (const sub of subs) s.addSubscription(sub);
    const hints = req.subs;
    try {
      prepared = await Promise.all(
        subs.map((sub) => {
          const hint = hints?.[sub.channel];
          const recover =
            sub.has(SubFlag.recoverable) && hint?.recover === true ? { offset: hint.offset ?? 0, epoch: hint.epoch ?? '' } : null;
          return prepare(s, sub, { recover, rejectUnrecovered: false, data: channels.get(sub.channel)?.data });
        }),
      );
    } catch (err) {
      if (s.closed || err instanceof SubscribeCancelled) return;
      for (const sub of subs) removeSubscription(s, sub, true);
      gw.removeUserSession(s);
      failConnect(s, id, failureOf(s, err, 'server-side subscription failed'));
      return;
    }
    if (s.closed) return;
  }

  const result: ConnectResult = { client: s.client, version: gw.version };
  if (cfg.pingIntervalMs > 0) {
    // Whole seconds on the wire; a sub-second interval (tests) still has to announce pings.
    result.ping = Math.max(1, Math.round(cfg.pingIntervalMs / 1000));
    if (cfg.pongTimeoutMs > 0) result.pong = true;
  }
  // With a refresh proxy the server refreshes the connection itself: no client-side refresh.
  if (expireAt > 0 && gw.proxies.refresh === null) {
    result.expires = true;
    result.ttl = Math.max(1, Math.ceil((expireAt - now) / 1000));
  }
  if (connectData !== undefined) result.data = connectData;
  if (cfg.connectIncludeServerTime) result.time = now;
  if (s.ws instanceof EmulatedSocket) {
    // Emulated transports address their later commands to this session on this node (/emulation).
    result.session = s.ws.sessionId;
    result.node = gw.nodeId;
  }
  if (prepared.length > 0) {
    const map: Record<string, SubscribeResult> = Object.create(null) as Record<string, SubscribeResult>;
    for (let i = 0; i < subs.length; i++) map[subs[i]!.channel] = prepared[i]!.result;
    result.subs = map;
  }
  s.reply(id, { connect: result });
  s.flushOut();
  gw.keepalive.connected(s);
  if (personal.enabled && personal.singleConnection && user !== '') {
    // single_connection: this connection wins; the user's others, on any node, end with 3504.
    gw.adapters.controlBus.send({ kind: 'disconnect', user, whitelist: [s.client], disconnect: Disconnects.connectionLimit });
  }
  for (let i = 0; i < subs.length; i++) {
    const sub = subs[i]!;
    if (s.closed) return;
    if (s.subscription(sub.channel) !== sub) continue;
    if (establish(s, sub, prepared[i]!) === JoinOutcome.insufficient) {
      s.disconnect(Disconnects.insufficientState);
      return;
    }
  }
}

function failConnect(s: Session, id: number, err: ErrorCode): void {
  s.replyError(id, err);
  s.state = SessionState.failed;
  s.gw.keepalive.failed(s);
}

/** A subscription named by the token: namespace options forced, token overrides applied. */
export function serverSideSubscription(
  s: Session,
  channel: string,
  ns: Subscription['namespace'],
  opts: TokenSubOptions,
): Subscription {
  const o = opts.override;
  const history = ns.historyEnabled;
  const recoverable = history && (ns.forceRecovery || o?.forceRecovery === true);
  const positioned = recoverable || (history && (ns.forcePositioning || o?.forcePositioning === true));
  let flags = SubFlag.serverSide;
  if (positioned) flags |= SubFlag.positioned;
  if (recoverable) flags |= SubFlag.recoverable;
  if (ns.forcePushJoinLeave || o?.forcePushJoinLeave === true) flags |= SubFlag.pushJoinLeave;
  if (o?.presence ?? ns.presence) flags |= SubFlag.presence;
  if (o?.joinLeave ?? ns.joinLeave) flags |= SubFlag.joinLeave;
  const sub = new Subscription(s, channel, ns, flags);
  sub.chanInfo = opts.info;
  return sub;
}
