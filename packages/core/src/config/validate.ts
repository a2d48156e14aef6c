// Rules that span several keys (Centrifugo's config validation plus Rotor's own), run on the
// decoded configuration after every per-key check. Also normalises the few values whose
// Centrifugo spelling has several forms ('' recovery mode, '' user id claim, log levels).
import { checkJwksEndpoint } from '../auth/jwks-template.ts';
import { formatDuration } from './duration.ts';
import type { Problems } from './problems.ts';
import type { NamespaceOptions, RotorConfig, TokenConfig } from './types.ts';

const namespaceNamePattern = /^[-a-zA-Z0-9_.]{2,}$/;

export function validateConfig(c: RotorConfig, problems: Problems): void {
  validateClient(c, problems);
  validateChannels(c, problems);
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

const proxyFlags = [
  ['subscribeProxyEnabled', 'subscribe_proxy_enabled', 'subscribe'],
  ['publishProxyEnabled', 'publish_proxy_enabled', 'publish'],
  ['subRefreshProxyEnabled', 'sub_refresh_proxy_enabled', 'sub refresh'],
  ['subscribeStreamProxyEnabled', 'subscribe_stream_proxy_enabled', 'subscribe stream'],
] as const;

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
  for (const [prop, key, action] of proxyFlags) {
    if (o[prop]) problems.warn(`${path}.${key}`, `proxies are not supported: ${action} requests in this namespace answer 108 (not available)`);
  }
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
