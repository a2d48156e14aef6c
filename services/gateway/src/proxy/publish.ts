// The publish proxy (PROTOCOL.md §4.7): in a namespace with publish_proxy_enabled the backend
// decides instead of the allow_publish_* options. PublishResult may replace the data
// (data/b64data) and ask to keep the publication out of history (skip_history).
import type { Session } from '../session.ts';
import { ProxyType } from './caller.ts';
import type { HttpProxy } from './caller.ts';
import { ask, badResult } from './ask.ts';
import type { Asked } from './ask.ts';
import { boolField, payloadField, requestBody } from './wire.ts';

export type PublishAsked = Exclude<Asked, { kind: 'result' }> | { kind: 'publish'; data: Uint8Array; skipHistory: boolean };

export async function proxyPublish(s: Session, proxy: HttpProxy, channel: string, data: Uint8Array): Promise<PublishAsked> {
  const asked = await ask(s, proxy, ProxyType.publish, () => requestBody(s, proxy, { channel }, data));
  if (asked.kind !== 'result') return asked;
  const r = asked.result ?? {};
  try {
    const replaced = payloadField(r, 'data', 'b64data', { text: asked.source, path: ['result'] });
    return { kind: 'publish', data: replaced !== undefined && replaced.byteLength > 0 ? replaced : data, skipHistory: boolField(r, 'skip_history') };
  } catch (err) {
    return badResult(s, ProxyType.publish, err) as PublishAsked;
  }
}
