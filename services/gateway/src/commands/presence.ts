// Client presence and presence_stats (PROTOCOL.md §4.6): presence off → 108, then permission.
import { Errors } from '@rotor/core';
import type { ResolvedChannel } from '@rotor/core';
import { toWireInfo } from '../convert.ts';
import { canPresence } from '../permissions.ts';
import type { Session } from '../session.ts';
import type { ClientInfo, PresenceRequest, PresenceStatsRequest } from '../wire-types.ts';
import { commandChannel, replyFailure } from './common.ts';

function check(s: Session, id: number, channel: string): ResolvedChannel | null {
  const rc = commandChannel(s, id, channel);
  if (rc === undefined) return null;
  const ns = rc.namespace;
  if (!ns.presence) {
    s.replyError(id, Errors.notAvailable);
    return null;
  }
  if (!canPresence(s.gw.config, ns, s, s.subscription(channel) !== undefined)) {
    s.replyError(id, Errors.permissionDenied);
    return null;
  }
  return rc;
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
    (err: unknown) => replyFailure(s, id, err, 'presence read failed'),
  );
}

export function handlePresenceStats(s: Session, id: number, req: PresenceStatsRequest): Promise<void> | undefined {
  const rc = check(s, id, req.channel ?? '');
  if (rc === null) return undefined;
  return s.gw.adapters.presence.stats(rc.channel).then(
    (st) => {
      if (!s.closed) s.reply(id, { presenceStats: { numClients: st.numClients, numUsers: st.numUsers } });
    },
    (err: unknown) => replyFailure(s, id, err, 'presence read failed'),
  );
}
