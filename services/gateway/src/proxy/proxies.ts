// Proxies: which HttpProxy answers which question, resolved from the configuration once per
// gateway (Centrifugo v6 layout):
//
//   connect / refresh         client.proxy.connect / client.proxy.refresh, when `enabled`
//   subscribe, publish,       per channel namespace `*_proxy_enabled`; `*_proxy_name` "default" is
//   sub_refresh               channel.proxy.<type>, any other name an entry of `proxies`
//   rpc                       per rpc namespace (text before rpc.namespace_boundary in the method,
//                             else rpc.without_namespace) `proxy_enabled` / `proxy_name`
//                             ("default" = rpc.proxy)
//
// The loader has already checked that every proxy in use has an http(s) endpoint.
import { Errors } from '@rotor/core';
import type { ErrorCode, Namespace, NamespaceOptions, ProxyConfig, RotorConfig, RpcOptions } from '@rotor/core';
import { HttpProxy } from './caller.ts';
import type { ProxyObserver } from './caller.ts';

const DEFAULT = 'default';

type ChannelProxyType = 'subscribe' | 'publish' | 'subRefresh';

/** What an rpc method resolves to. */
export type RpcRoute = { kind: 'proxy'; proxy: HttpProxy } | { kind: 'ping' } | { kind: 'error'; error: ErrorCode };

export class Proxies {
  readonly connect: HttpProxy | null;
  /** Set: connections with an expiry are refreshed by the server (this proxy), not by the client. */
  readonly refresh: HttpProxy | null;
  /** Lower-case names of the upgrade headers some proxy forwards; empty: capture nothing. */
  readonly captureHeaders: readonly string[];
  /** Whether any proxy is in use (sessions then carry a ProxyState). */
  readonly any: boolean;
  private readonly built = new Map<string, HttpProxy>();
  private readonly named: ReadonlyMap<string, ProxyConfig>;
  private readonly rpcNamespaces: ReadonlyMap<string, RpcOptions>;
  private readonly rpcInUse: boolean;

  constructor(
    private readonly config: RotorConfig,
    private readonly observer: ProxyObserver,
  ) {
    this.named = new Map(config.proxies.map((p) => [p.name, p]));
    const cp = config.client.proxy;
    this.connect = cp.connect.enabled ? new HttpProxy(DEFAULT, cp.connect, observer) : null;
    this.refresh = cp.refresh.enabled ? new HttpProxy(DEFAULT, cp.refresh, observer) : null;
    const used: HttpProxy[] = [];
    if (this.connect !== null) used.push(this.connect);
    if (this.refresh !== null) used.push(this.refresh);
    const namespaces: NamespaceOptions[] = [config.channel.withoutNamespace, ...config.channel.namespaces];
    for (const ns of namespaces) {
      if (ns.subscribeProxyEnabled) used.push(this.channelProxy('subscribe', ns.subscribeProxyName));
      if (ns.publishProxyEnabled) used.push(this.channelProxy('publish', ns.publishProxyName));
      if (ns.subRefreshProxyEnabled) used.push(this.channelProxy('subRefresh', ns.subRefreshProxyName));
    }
    const rpc = config.rpc;
    this.rpcNamespaces = new Map(rpc.namespaces.map((n) => [n.name, n]));
    for (const o of [rpc.withoutNamespace, ...rpc.namespaces]) if (o.proxyEnabled) used.push(this.rpcProxy(o.proxyName));
    this.rpcInUse = rpc.ping.enabled || [rpc.withoutNamespace, ...rpc.namespaces].some((o) => o.proxyEnabled);
    this.captureHeaders = [...new Set(used.flatMap((p) => p.forwardHeaders))];
    this.any = used.length > 0;
  }

  subscribe(ns: Namespace): HttpProxy {
    return this.channelProxy('subscribe', ns.subscribeProxyName);
  }

  publish(ns: Namespace): HttpProxy {
    return this.channelProxy('publish', ns.publishProxyName);
  }

  subRefresh(ns: Namespace): HttpProxy {
    return this.channelProxy('subRefresh', ns.subRefreshProxyName);
  }

  /** Routes a client rpc method (PROTOCOL.md §4.7). */
  rpc(method: string): RpcRoute {
    const rpc = this.config.rpc;
    if (rpc.ping.enabled && method === rpc.ping.method) return { kind: 'ping' };
    if (!this.rpcInUse) return { kind: 'error', error: Errors.notAvailable };
    const at = method.indexOf(rpc.namespaceBoundary);
    let options: RpcOptions | undefined = rpc.withoutNamespace;
    if (at >= 0) {
      options = this.rpcNamespaces.get(method.slice(0, at));
      if (options === undefined) return { kind: 'error', error: Errors.methodNotFound };
    }
    if (!options.proxyEnabled) return { kind: 'error', error: Errors.notAvailable };
    return { kind: 'proxy', proxy: this.rpcProxy(options.proxyName) };
  }

  private channelProxy(type: ChannelProxyType, name: string): HttpProxy {
    return this.get(type, name, this.config.channel.proxy[type]);
  }

  private rpcProxy(name: string): HttpProxy {
    return this.get('rpc', name, this.config.rpc.proxy);
  }

  /** One HttpProxy per configured proxy: named proxies are shared by every type that uses them. */
  private get(type: string, name: string, defaultConfig: ProxyConfig): HttpProxy {
    const isDefault = name === DEFAULT || name === '';
    const key = isDefault ? `${DEFAULT}:${type}` : name;
    let p = this.built.get(key);
    if (p === undefined) {
      const cfg = isDefault ? defaultConfig : this.named.get(name);
      // validate.ts rejects unknown names; reaching this is a bug, not a client's doing.
      if (cfg === undefined) throw new Error(`proxy ${JSON.stringify(name)} is not configured`);
      p = new HttpProxy(name === '' ? DEFAULT : name, cfg, this.observer);
      this.built.set(key, p);
    }
    return p;
  }
}
