// Client publish (PROTOCOL.md §4.7): namespace permission, data format validation, then the
// injected Publisher (which stores and fans out). Clients get `{"publish":{}}`, no offset.
import { Errors } from '@rotor/core';
import type { ClientInfo, HistoryOptions, Namespace, ResolvedChannel } from '@rotor/core';
import { canPublish } from '../permissions.ts';
import type { Session } from '../session.ts';
import type { PublishRequest } from '../wire-types.ts';
import { commandChannel, replyFailure } from './common.ts';
import { answer } from '../proxy/ask.ts';
import { proxyPublish } from '../proxy/publish.ts';

export function handlePublish(s: Session, id: number, req: PublishRequest): Promise<void> | undefined {
  const gw = s.gw;
  const channel = req.channel ?? '';
  const rc = commandChannel(s, id, channel);
  if (rc === undefined) return undefined;
  const ns = rc.namespace;
  if ((req.type ?? 0) !== 0) {
    s.replyError(id, Errors.notAvailable);
    return undefined;
  }
  const data = req.data ?? new Uint8Array(0);
  if (!validData(ns, data)) {
    s.replyError(id, Errors.badRequest);
    return undefined;
  }
  if (ns.publishProxyEnabled) return publishViaProxy(s, id, rc, data);
  const sub = s.subscription(channel);
  if (!canPublish(gw.config, ns, s, sub !== undefined)) {
    s.replyError(id, Errors.permissionDenied);
    return undefined;
  }
  return publish(s, id, rc, data, rc.history ?? undefined);
}

/** The backend decides instead of the namespace's allow_publish_* options. */
async function publishViaProxy(s: Session, id: number, rc: ResolvedChannel, data: Uint8Array): Promise<void> {
  const asked = await proxyPublish(s, s.gw.proxies.publish(rc.namespace), rc.channel, data);
  if (s.closed) return;
  if (asked.kind !== 'publish') {
    answer(s, id, asked);
    return;
  }
  await publish(s, id, rc, asked.data, asked.skipHistory ? undefined : (rc.history ?? undefined));
}

function publish(s: Session, id: number, rc: ResolvedChannel, data: Uint8Array, history: HistoryOptions | undefined): Promise<void> {
  const channel = rc.channel;
  const sub = s.subscription(channel);
  const info: ClientInfo = { user: s.user, client: s.client };
  if (s.connInfo !== undefined) info.connInfo = s.connInfo;
  if (sub?.chanInfo !== undefined) info.chanInfo = sub.chanInfo;
  return s.gw.adapters.publisher.publish({ channel, data, info, history }).then(
    () => {
      if (!s.closed) s.reply(id, { publish: {} });
    },
    (err: unknown) => replyFailure(s, id, err, 'client publish failed'),
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** publication_data_format of the namespace: "" needs non-empty data; json / json_object parse. */
export function validData(ns: Namespace, data: Uint8Array): boolean {
  switch (ns.publicationDataFormat) {
    case 'binary':
      return true;
    case 'json':
    case 'json_object': {
      let value: unknown;
      try {
        value = JSON.parse(utf8.decode(data));
      } catch {
        return false;
      }
      return ns.publicationDataFormat === 'json' || (typeof value === 'object' && value !== null && !Array.isArray(value));
    }
    default:
      return data.byteLength > 0;
  }
}
