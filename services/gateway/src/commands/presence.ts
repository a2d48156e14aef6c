// Client presence and presence_stats (PROTOCOL.md §4.6): presence off → 108, then permission.
import { Disconnects, Errors, RotorError } from '@rotor/core';
import type { ResolvedChannel } from '@rotor/core';
import { toWireInfo } from '../convert.ts';
import { canPresence } from '../permissions.ts';
import type { Session } from '../session.ts';
import type { ClientInfo, PresenceRequest, PresenceStatsRequest } from '../wire-types.ts';

function check(s: Session, id: number, channel: string): ResolvedChannel | null {
  if (channel === '') {
    s.disconnect(Disconnects.badRequest);
    return null;
  }
  const resolved = s.gw.rules.resolve(channel);
  if (!resolved.ok) {
    s.replyError(id, resolved.error);
    return null;
  }
  const ns = resolved.channel.namespace;
  if (!ns.presence) {
    s.replyError(id, Errors.notAvailable);
    return null;
  }
  if (!canPresence(s.gw.config, ns, s, s.subscription(channel) !== undefined)) {
    s.replyError(id, Errors.permissionDenied);
    return null;
  }
  return resolved.channel;
}

function failed(s: Session, id: number, err: unknown): void {
  if (s.closed) return;
  if (!(err instanceof RotorError)) s.gw.log.warn('presence read failed', { error: String(err) });
  const e = RotorError.from(err);
  s.replyError(id, { code: e.code, message: e.message, temporary: e.temporary });
}

export function handlePresence(s: Session, id: number, req: PresenceRequest): Promise<void> | undefined {
  const rc = check(s, id, req.channel ?? '');
  if (rc === null) return undefined;
  return s.gw.adapters.presence.get(rc.channel).then(
    (entries) => {
      if (s.closed) return;
      const presence: Record<string, ClientInfo> = Object.create(null) as Record<string, ClientInfo>;
      for (const [client, info] of entries) presence[client] = toWireInfo(info);
      s.reply(id, { presence: { presence } });
    },
    (err: unknown) => failed(s, id, err),
  );
}

export function handlePresenceStats(s: Session, id: number, req: PresenceStatsRequest): Promise<void> | undefined {
  const rc = check(s, id, req.channel ?? '');
  if (rc === null) return undefined;
  return s.gw.adapters.presence.stats(rc.channel).then(
    (st) => {
      if (!s.closed) s.reply(id, { presenceStats: { numClients: st.numClients, numUsers: st.numUsers } });
    },
    (err: unknown) => failed(s, id, err),
  );
}
