// The rpc proxy (PROTOCOL.md §4.7): a client `rpc` goes to the proxy of the method's rpc namespace;
// RPCResult data/b64data is the reply's data.
import type { Session } from '../session.ts';
import { ProxyType } from './caller.ts';
import type { HttpProxy } from './caller.ts';
import { ask, badResult } from './ask.ts';
import type { Asked } from './ask.ts';
import { payloadField, requestBody } from './wire.ts';

export type RpcAsked = Exclude<Asked, { kind: 'result' }> | { kind: 'rpc'; data: Uint8Array | undefined };

export async function proxyRpc(s: Session, proxy: HttpProxy, method: string, data: Uint8Array | undefined): Promise<RpcAsked> {
  const asked = await ask(s, proxy, ProxyType.rpc, () => requestBody(s, proxy, { method }, data));
  if (asked.kind !== 'result') return asked;
  try {
    return { kind: 'rpc', data: asked.result === null ? undefined : payloadField(asked.result, 'data', 'b64data', { text: asked.source, path: ['result'] }) };
  } catch (err) {
    return badResult(s, ProxyType.rpc, err) as RpcAsked;
  }
}
