// Client rpc (PROTOCOL.md §4.7): routed by method to its rpc namespace's proxy (Proxies.rpc):
// unknown rpc namespace → 104, namespace without proxy_enabled (or no rpc configured) → 108; the
// built-in ping method (rpc.ping) answers an empty result.
import type { Session } from '../session.ts';
import type { RPCRequest } from '../wire-types.ts';
import { answer } from '../proxy/ask.ts';
import { proxyRpc } from '../proxy/rpc.ts';

export function handleRpc(s: Session, id: number, req: RPCRequest): Promise<void> | undefined {
  const method = req.method ?? '';
  const route = s.gw.proxies.rpc(method);
  switch (route.kind) {
    case 'error':
      s.replyError(id, route.error);
      return undefined;
    case 'ping':
      s.reply(id, { rpc: {} });
      return undefined;
    case 'proxy':
      return proxyRpc(s, route.proxy, method, req.data).then((asked) => {
        if (s.closed) return;
        if (asked.kind !== 'rpc') {
          answer(s, id, asked);
          return;
        }
        s.reply(id, { rpc: asked.data === undefined ? {} : { data: asked.data } });
      });
  }
}
