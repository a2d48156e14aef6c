// Rules that span several keys (Centrifugo's config validation plus Rotor's own), run on the
// decoded configuration after every per-key check. Also normalises the few values whose
// Centrifugo spelling has several forms ('' recovery mode, '' user id claim, log levels).
import { checkJwksEndpoint } from '../auth/jwks-template.ts';
import { formatDuration } from './duration.ts';
import type { Problems } from './problems.ts';
import type { NamespaceOptions, ProxyConfig, RotorConfig, TokenConfig } from './types.ts';

const namespaceNamePattern = /^[-a-zA-Z0-9_.]{2,}$/;

export function validateConfig(c: RotorConfig, problems: Problems): void {
  validateClient(c, problems);
  validateChannels(c, problems);
  validateProxies(c, problems);
  validatePorts(c, problems);
  validateRotor(c, problems);
  normaliseLogLevel(c, problems);
}

function validateClient(c: RotorConfig, problems: Problems): void {
  const cl = c.client;
  if (cl.pongTimeoutMs >= cl.pingIntervalMs && problems.clean('client.ping_interval', 'client.pong_timeout')) {
    problems.error(
      'client.pong_timeout',
      `must be less than client.ping_interval (${formatDuration(cl.pingIntervalMs)}), got ${formatDuration(cl.pongTimeoutMs)}`,
    );
  }
  validateToken(cl.token, 'client.token', problems);
  if (cl.subscriptionToken.enabled) validateToken(cl.subscriptionToken, 'client.subscription_token', problems);
  if (cl.insecure) problems.warn('client.insecure', 'insecure client mode: no token checks and every channel permission granted; development only');
  if (cl.insecureSkipTokenSignatureVerify) {
    problems.warn('client.insecure_skip_token_signature_verify', 'token signatures are NOT verified; development only');
  }
}

function validateToken(t: TokenConfig, path: string, problems: Problems): void {
  if (t.userIdClaim === '') t.userIdClaim = 'sub';
  if (t.hmacPreviousSecretKey !== '' && t.hmacSecretKey === '') {
    problems.error(`${path}.hmac_previous_secret_key`, 'set without hmac_secret_key (the previous key only complements the current one)');
  }
  if (t.hmacPreviousSecretKeyValidUntil !== 0 && t.hmacPreviousSecretKey === '') {
    problems.warn(`${path}.hmac_previous_secret_key_valid_until`, 'set without hmac_previous_secret_key, has no effect');
  }
  // A templated endpoint's variables must come from the regexes' named groups (auth/jwks-template.ts).
  const keys = [`${path}.jwks_public_endpoint`, `${path}.issuer_regex`, `${path}.audience_regex`];
  if (t.jwksPublicEndpoint !== '' && problems.clean(...keys)) {
    const problem = checkJwksEndpoint(t.jwksPublicEndpoint, t.issuerRegex, t.audienceRegex, !t.insecureSkipJwksEndpointSafetyCheck);
    if (problem !== null) problems.error(`${path}.jwks_public_endpoint`, problem);
  }
}

function validateChannels(c: RotorConfig, problems: Problems): void {
  validateNamespaceOptions(c.channel.withoutNamespace, 'channel.without_namespace', c.channel.historyMetaTtlMs, problems);
  const seen = new Map<string, number>();
  c.channel.namespaces.forEach((ns, i) => {
    const path = `channel.namespaces[${i}]`;
    if (!problems.clean(path)) return;
    if (problems.clean(`${path}.name`)) {
      if (!namespaceNamePattern.test(ns.name)) {
        problems.error(`${path}.name`, `invalid namespace name ${JSON.stringify(ns.name)} (must match ${namespaceNamePattern.source})`);
      } else if (seen.has(ns.name)) {
        problems.error(`${path}.name`, `duplicate namespace name ${JSON.stringify(ns.name)} (also channel.namespaces[${seen.get(ns.name)}])`);
      } else {
        seen.set(ns.name, i);
      }
    }
    validateNamespaceOptions(ns, path, c.channel.historyMetaTtlMs, problems);
  });

  const personal = c.client.subscribeToUserPersonalChannel;
  if (personal.enabled) {
    const nsName = personal.personalChannelNamespace;
    const options: NamespaceOptions | undefined = nsName === '' ? c.channel.withoutNamespace : c.channel.namespaces.find((n) => n.name === nsName);
    if (options === undefined) {
      problems.error('client.subscribe_to_user_personal_channel.personal_channel_namespace', `namespace ${JSON.stringify(nsName)} is not defined in channel.namespaces`);
    } else if (personal.singleConnection && !options.presence) {
      problems.error(
        'client.subscribe_to_user_personal_channel.single_connection',
        `needs presence enabled in ${nsName === '' ? 'channel.without_namespace' : `namespace ${JSON.stringify(nsName)}`}`,
      );
    }
  }
}

function validateNamespaceOptions(o: NamespaceOptions, path: string, globalMetaTtlMs: number, problems: Problems): void {
  const historyClean = problems.clean(`${path}.history_size`, `${path}.history_ttl`, `${path}.history_meta_ttl`, 'channel.history_meta_ttl');
  if (historyClean) {
    if ((o.historySize > 0) !== (o.historyTtlMs > 0)) {
      problems.error(`${path}.history_size`, 'history_size and history_ttl must be set together (history needs both)');
    }
    const metaTtl = o.historyMetaTtlMs > 0 ? o.historyMetaTtlMs : globalMetaTtlMs;
    if (o.historyTtlMs > metaTtl) {
      problems.error(`${path}.history_ttl`, `(${formatDuration(o.historyTtlMs)}) must not exceed the history meta ttl (${formatDuration(metaTtl)})`);
    }
    if (o.forceRecovery && (o.historySize === 0 || o.historyTtlMs === 0)) {
      problems.error(`${path}.force_recovery`, 'needs history (history_size and history_ttl)');
    }
  }
  if ((o.forceRecoveryMode as string) === '') o.forceRecoveryMode = 'stream';
  if (o.subscribeStreamProxyEnabled) {
    problems.warn(`${path}.subscribe_stream_proxy_enabled`, 'subscription streams are not supported: subscribe requests in this namespace answer 108 (not available)');
  }
}

// ---- proxies ------------------------------------------------------------------------------

/** Name of the per-type proxy (client.proxy.*, channel.proxy.*, rpc.proxy) in `*_proxy_name`. */
export const DEFAULT_PROXY_NAME = 'default';
const proxyNamePattern = /^[-a-zA-Z0-9_.]+$/;

const namespaceProxies = [
  ['subscribeProxyEnabled', 'subscribeProxyName', 'subscribe_proxy', 'subscribe', 'channel.proxy.subscribe'],
  ['publishProxyEnabled', 'publishProxyName', 'publish_proxy', 'publish', 'channel.proxy.publish'],
  ['subRefreshProxyEnabled', 'subRefreshProxyName', 'sub_refresh_proxy', 'subRefresh', 'channel.proxy.sub_refresh'],
] as const;

/** Endpoint checks of one proxy that is in use; returns whether it can be called. */
function checkProxyEndpoint(p: ProxyConfig, path: string, usedBy: string, problems: Problems): void {
  if (!problems.clean(`${path}.endpoint`)) return;
  if (p.endpoint === '') {
    problems.error(`${path}.endpoint`, `required: ${usedBy} uses this proxy`);
    return;
  }
  const url = URL.canParse(p.endpoint) ? new URL(p.endpoint) : null;
  if (url !== null && url.protocol === 'grpc:') {
    problems.error(`${path}.endpoint`, 'gRPC proxies are not supported; use an http(s) endpoint');
  } else if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    problems.error(`${path}.endpoint`, `must be an http(s) URL, got ${JSON.stringify(withoutCredentials(p.endpoint))}`);
  }
}

/** An endpoint as it may be shown: whatever precedes an '@' of the authority is masked. */
function withoutCredentials(endpoint: string): string {
  return endpoint.replace(/^([^/@]*\/*)[^/@]*@/, '$1***@');
}

/** status_to_code_transforms: a real status, exactly one target, a disconnect code that can close a WebSocket. */
function validateTransforms(p: ProxyConfig, path: string, problems: Problems): void {
  p.http.statusToCodeTransforms.forEach((tr, i) => {
    const at = `${path}.http.status_to_code_transforms[${i}]`;
    if (!problems.clean(at, `${at}.status_code`, `${at}.to_error.code`, `${at}.to_disconnect.code`)) return;
    if (tr.statusCode < 100) problems.error(`${at}.status_code`, `must be an HTTP status (100–599), got ${tr.statusCode}`);
    const toError = tr.toError.code > 0;
    const toDisconnect = tr.toDisconnect.code > 0;
    if (toError === toDisconnect) problems.error(at, 'set exactly one of to_error.code and to_disconnect.code');
    if (toDisconnect && tr.toDisconnect.code < 3000) {
      problems.error(`${at}.to_disconnect.code`, `must be a disconnect code (3000–4999), got ${tr.toDisconnect.code}`);
    }
  });
}

function validateProxies(c: RotorConfig, problems: Problems): void {
  validateTransforms(c.client.proxy.connect, 'client.proxy.connect', problems);
  validateTransforms(c.client.proxy.refresh, 'client.proxy.refresh', problems);
  validateTransforms(c.channel.proxy.subscribe, 'channel.proxy.subscribe', problems);
  validateTransforms(c.channel.proxy.publish, 'channel.proxy.publish', problems);
  validateTransforms(c.channel.proxy.subRefresh, 'channel.proxy.sub_refresh', problems);
  validateTransforms(c.rpc.proxy, 'rpc.proxy', problems);
  c.proxies.forEach((p, i) => validateTransforms(p, `proxies[${i}]`, problems));
  const named = new Map<string, number>();
  c.proxies.forEach((p, i) => {
    const path = `proxies[${i}]`;
    if (!problems.clean(path, `${path}.name`)) return;
    if (!proxyNamePattern.test(p.name)) {
      problems.error(`${path}.name`, `invalid proxy name ${JSON.stringify(p.name)} (must match ${proxyNamePattern.source})`);
    } else if (p.name === DEFAULT_PROXY_NAME) {
      problems.error(`${path}.name`, `"${DEFAULT_PROXY_NAME}" is reserved for the per-type proxies (channel.proxy.*, rpc.proxy)`);
    } else if (named.has(p.name)) {
      problems.error(`${path}.name`, `duplicate proxy name ${JSON.stringify(p.name)} (also proxies[${named.get(p.name)}])`);
    } else {
      named.set(p.name, i);
    }
  });
  // A named proxy is checked once, by its first user.
  const checkedNamed = new Set<string>();
  const use = (name: string, namePath: string, defaultPath: string, defaultProxy: ProxyConfig, usedBy: string): void => {
    if (!problems.clean(namePath)) return;
    if (name === DEFAULT_PROXY_NAME || name === '') {
      checkProxyEndpoint(defaultProxy, defaultPath, usedBy, problems);
      return;
    }
    const i = named.get(name);
    if (i === undefined) {
      problems.error(namePath, `no proxy named ${JSON.stringify(name)} in proxies`);
      return;
    }
    if (checkedNamed.has(name)) return;
    checkedNamed.add(name);
    checkProxyEndpoint(c.proxies[i]!, `proxies[${i}]`, usedBy, problems);
  };

  const cp = c.client.proxy;
  if (cp.connect.enabled) checkProxyEndpoint(cp.connect, 'client.proxy.connect', 'client.proxy.connect.enabled', problems);
  if (cp.refresh.enabled) checkProxyEndpoint(cp.refresh, 'client.proxy.refresh', 'client.proxy.refresh.enabled', problems);

  const namespaces: Array<[NamespaceOptions, string]> = [[c.channel.withoutNamespace, 'channel.without_namespace']];
  c.channel.namespaces.forEach((ns, i) => namespaces.push([ns, `channel.namespaces[${i}]`]));
  for (const [ns, path] of namespaces) {
    if (!problems.clean(path)) continue;
    for (const [enabled, nameProp, key, type, defaultPath] of namespaceProxies) {
      if (!ns[enabled]) continue;
      use(ns[nameProp], `${path}.${key}_name`, defaultPath, c.channel.proxy[type], `${path}.${key}_enabled`);
    }
  }

  const rpc = c.rpc;
  if (rpc.withoutNamespace.proxyEnabled) {
    use(rpc.withoutNamespace.proxyName, 'rpc.without_namespace.proxy_name', 'rpc.proxy', rpc.proxy, 'rpc.without_namespace.proxy_enabled');
  }
  const seen = new Map<string, number>();
  rpc.namespaces.forEach((ns, i) => {
    const path = `rpc.namespaces[${i}]`;
    if (!problems.clean(path, `${path}.name`)) return;
    if (!namespaceNamePattern.test(ns.name)) {
      problems.error(`${path}.name`, `invalid rpc namespace name ${JSON.stringify(ns.name)} (must match ${namespaceNamePattern.source})`);
    } else if (seen.has(ns.name)) {
      problems.error(`${path}.name`, `duplicate rpc namespace name ${JSON.stringify(ns.name)} (also rpc.namespaces[${seen.get(ns.name)}])`);
    } else {
      seen.set(ns.name, i);
    }
    if (ns.proxyEnabled) use(ns.proxyName, `${path}.proxy_name`, 'rpc.proxy', rpc.proxy, `${path}.proxy_enabled`);
  });
}

function validatePorts(c: RotorConfig, problems: Problems): void {
  const http = c.httpServer.port;
  const grpc = c.grpcApi.port;
  if (c.grpcApi.enabled && grpc !== 0 && (grpc === http || grpc === c.rotor.apiPort)) {
    problems.error('grpc_api.port', `${grpc} is also used by ${grpc === http ? 'http_server.port' : 'rotor.api_port'}`);
  }
  // 0 is gRPC's "use the library default" in Centrifugo.
  if (c.grpcApi.maxReceiveMessageSize === 0) c.grpcApi.maxReceiveMessageSize = 4 * 1024 * 1024;
}

function validateRotor(c: RotorConfig, problems: Problems): void {
  const clean = problems.clean('rotor.presence_ttl', 'client.presence_update_interval');
  if (clean && c.rotor.presenceTtlMs <= c.client.presenceUpdateIntervalMs) {
    problems.error(
      'rotor.presence_ttl',
      `(${formatDuration(c.rotor.presenceTtlMs)}) must exceed client.presence_update_interval (${formatDuration(c.client.presenceUpdateIntervalMs)}), or entries expire between refreshes`,
    );
  }
}

function normaliseLogLevel(c: RotorConfig, problems: Problems): void {
  const level = c.log.level as string;
  if (level === 'trace') c.log.level = 'debug';
  if (level === 'none') {
    c.log.level = 'error';
    problems.warn('log.level', '"none" is not supported; errors are still logged');
  }
}
