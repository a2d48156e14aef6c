// Client history (PROTOCOL.md §4.7): limit 0 → position only; negative or above
// client.history_max_publication_limit → clamped to it; `since` continues after (or, reversed,
// before) a position; a since epoch that is not the current one → 112.
import { Disconnects, Errors } from '@rotor/core';
import type { ReadRequest } from '@rotor/core';
import { allJson, toWirePublications } from '../convert.ts';
import { Format } from '../hub.ts';
import { canHistory } from '../permissions.ts';
import type { Session } from '../session.ts';
import type { HistoryRequest } from '../wire-types.ts';
import { commandChannel, replyFailure } from './common.ts';

export function handleHistory(s: Session, id: number, req: HistoryRequest): Promise<void> | undefined {
  const gw = s.gw;
  const channel = req.channel ?? '';
  const rc = commandChannel(s, id, channel);
  if (rc === undefined) return undefined;
  const ns = rc.namespace;
  if (!ns.historyEnabled) {
    s.replyError(id, Errors.notAvailable);
    return undefined;
  }
  if (!canHistory(gw.config, ns, s, s.subscription(channel) !== undefined)) {
    s.replyError(id, Errors.permissionDenied);
    return undefined;
  }
  const max = gw.config.client.historyMaxPublicationLimit;
  let limit = req.limit ?? 0;
  if (max > 0 && (limit < 0 || limit > max)) limit = max;
  const reverse = req.reverse === true;
  const read: ReadRequest = { channel, limit, reverse, metaTtlMs: ns.effectiveHistoryMetaTtlMs };
  const since = req.since;
  if (since !== undefined) {
    const offset = since.offset ?? 0;
    if (reverse && offset === 0) {
      s.replyError(id, Errors.badRequest);
      return undefined;
    }
    read.since = { offset, epoch: since.epoch ?? '' };
  }
  return gw.adapters.history.read(read).then(
    (r) => {
      if (s.closed) return;
      if (read.since !== undefined && read.since.epoch !== '' && read.since.epoch !== r.position.epoch) {
        s.replyError(id, Errors.unrecoverablePosition);
        return;
      }
      if (s.format === Format.json && !allJson(r.publications)) {
        s.disconnect(Disconnects.inappropriateProtocol);
        return;
      }
      s.reply(id, {
        history: { publications: toWirePublications(r.publications), epoch: r.position.epoch, offset: r.position.offset },
      });
    },
    (err: unknown) => replyFailure(s, id, err, 'history read failed'),
  );
}
