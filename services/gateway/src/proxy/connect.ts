// The connect proxy (PROTOCOL.md §4.1, §4.9): a client without token is authenticated by the
// backend. ConnectResult fields: user, expire_at (Unix s), info/b64info, data/b64data (sent to the
// client in ConnectResult.data), channels (server-side subscriptions with namespace defaults), subs
// (server-side subscriptions with info, data and option overrides), meta (kept for later requests
// of proxies with include_connection_meta). A response without `result` means no credentials: the
// connection continues as anonymous if allowed, else closes with 3501, as with no token.
import type { TokenSubOptions } from '@rotor/core';
import type { Session } from '../session.ts';
import type { ConnectRequest } from '../wire-types.ts';
import { ProxyType } from './caller.ts';
import type { HttpProxy } from './caller.ts';
import { ask, badResult } from './ask.ts';
import type { Asked } from './ask.ts';
import { metaField, objectField, overrideField, payloadField, requestBody, secondsField, stringField, stringsField } from './wire.ts';
import type { Source } from './wire.ts';

export interface ProxyCredentials {
  user: string;
  /** Unix seconds, 0 = never. */
  expireAt: number;
  info: Uint8Array | undefined;
  data: Uint8Array | undefined;
  /** Server-side subscriptions (`channels` and `subs`, subs win). */
  subs: Map<string, TokenSubOptions>;
  meta: string | undefined;
}

export type ConnectAsked = Exclude<Asked, { kind: 'result' }> | { kind: 'credentials'; credentials: ProxyCredentials | null };

export async function proxyConnect(s: Session, proxy: HttpProxy, req: ConnectRequest): Promise<ConnectAsked> {
  const asked = await ask(s, proxy, ProxyType.connect, () => {
    const fields: Record<string, unknown> = {};
    if (req.name !== undefined && req.name !== '') fields['name'] = req.name;
    if (req.version !== undefined && req.version !== '') fields['version'] = req.version;
    if (req.subs !== undefined) {
      const channels = Object.keys(req.subs);
      if (channels.length > 0) fields['channels'] = channels;
    }
    return requestBody(s, proxy, fields, req.data, true);
  });
  if (asked.kind !== 'result') return asked;
  if (asked.result === null) return { kind: 'credentials', credentials: null };
  try {
    return { kind: 'credentials', credentials: readCredentials(asked.result, asked.source) };
  } catch (err) {
    return badResult(s, ProxyType.connect, err) as ConnectAsked;
  }
}

function readCredentials(r: Record<string, unknown>, text: string): ProxyCredentials {
  const src: Source = { text, path: ['result'] };
  const subs = new Map<string, TokenSubOptions>();
  for (const channel of stringsField(r, 'channels')) subs.set(channel, {});
  const subsObj = objectField(r, 'subs');
  if (subsObj !== undefined) {
    for (const channel of Object.keys(subsObj)) {
      const o = objectField(subsObj, channel) ?? {};
      const subSrc: Source = { text, path: ['result', 'subs', channel] };
      const opts: TokenSubOptions = {};
      const info = payloadField(o, 'info', 'b64info', subSrc);
      if (info !== undefined) opts.info = info;
      const data = payloadField(o, 'data', 'b64data', subSrc);
      if (data !== undefined) opts.data = data;
      const override = overrideField(o);
      if (override !== undefined) opts.override = override;
      subs.set(channel, opts);
    }
  }
  return {
    user: stringField(r, 'user'),
    expireAt: secondsField(r, 'expire_at'),
    info: payloadField(r, 'info', 'b64info', src),
    data: payloadField(r, 'data', 'b64data', src),
    subs,
    meta: metaField(r, src),
  };
}
