// The typed, validated configuration every service receives. Produced once by `loadConfig`
// (defaults < file < ROTOR_* environment), frozen, never read from the environment again.
//
// File keys follow Centrifugo v6 (snake_case paths such as `client.token.hmac_secret_key`); this
// object uses the same structure in camelCase. Durations are milliseconds here (`...Ms`), strings
// like "25s" / "720h" in files. Keys of our own (NATS, shards, drain) live under `rotor.*`.

/** Per-namespace channel options (PROTOCOL.md §9). All default to false / 0 / ''. */
export interface NamespaceOptions {
  presence: boolean;
  joinLeave: boolean;
  forcePushJoinLeave: boolean;
  /** History is on only when both historySize and historyTtlMs are > 0. */
  historySize: number;
  historyTtlMs: number;
  /** 0 means the global channel.history_meta_ttl. */
  historyMetaTtlMs: number;
  forcePositioning: boolean;
  allowPositioning: boolean;
  forceRecovery: boolean;
  allowRecovery: boolean;
  forceRecoveryMode: 'stream' | 'cache';
  autoCacheRecover: boolean;
  allowedDeltaTypes: string[];
  deltaPublish: boolean;
  allowTagsFilter: boolean;
  allowSubscribeForClient: boolean;
  allowSubscribeForAnonymous: boolean;
  allowPublishForClient: boolean;
  allowPublishForSubscriber: boolean;
  allowPublishForAnonymous: boolean;
  allowPresenceForClient: boolean;
  allowPresenceForSubscriber: boolean;
  allowPresenceForAnonymous: boolean;
  allowHistoryForClient: boolean;
  allowHistoryForSubscriber: boolean;
  allowHistoryForAnonymous: boolean;
  allowUserLimitedChannels: boolean;
  /** Source of the channel name regex ('' = none: ASCII rule applies). Compiled in `Namespace`. */
  channelRegex: string;
  publicationDataFormat: '' | 'json' | 'json_object' | 'binary';
  /**
   * Ask the application backend (HTTP proxy) for subscribe / publish / subscription refresh
   * decisions. The `*ProxyName` selects the proxy: 'default' is channel.proxy.<type>, any other
   * name an entry of `proxies`.
   */
  subscribeProxyEnabled: boolean;
  publishProxyEnabled: boolean;
  subRefreshProxyEnabled: boolean;
  /** Subscription streams are not implemented: subscribes in such a namespace answer 108. */
  subscribeStreamProxyEnabled: boolean;
  subscribeProxyName: string;
  publishProxyName: string;
  subRefreshProxyName: string;
}

/** A resolved namespace: its options plus derived, precomputed facts. */
export interface Namespace extends NamespaceOptions {
  /** '' for channels without namespace. */
  name: string;
  /** Compiled `channelRegex`, or null. */
  channelPattern: RegExp | null;
  /** historySize > 0 && historyTtlMs > 0. */
  historyEnabled: boolean;
  /** Effective meta TTL (namespace value or the global default). */
  effectiveHistoryMetaTtlMs: number;
}

/** JWT verification settings (client.token and client.subscription_token). */
export interface TokenConfig {
  hmacSecretKey: string;
  hmacPreviousSecretKey: string;
  /** Unix ms until which the previous HMAC key is accepted; 0 = not set. */
  hmacPreviousSecretKeyValidUntil: number;
  /** PEM. */
  rsaPublicKey: string;
  /** PEM. */
  ecdsaPublicKey: string;
  jwksPublicEndpoint: string;
  audience: string;
  audienceRegex: string;
  issuer: string;
  issuerRegex: string;
  /** Claim holding the user id; default 'sub'. */
  userIdClaim: string;
  /**
   * Allows templated JWKS endpoint variables from regex groups that are not a list of fixed values
   * (any value a client sends then makes one outbound fetch). Off by default.
   */
  insecureSkipJwksEndpointSafetyCheck: boolean;
}

export interface SubscriptionTokenConfig extends TokenConfig {
  /** When false, subscription tokens are verified with client.token settings. */
  enabled: boolean;
}

/** One HTTP proxy endpoint (Centrifugo's `Proxy`; gRPC endpoints are rejected at load). */
export interface ProxyConfig {
  /** http(s) URL the JSON requests are POSTed to; '' = not configured. */
  endpoint: string;
  timeoutMs: number;
  /** Headers of the client's WebSocket upgrade request to forward (case-insensitive names). */
  httpHeaders: string[];
  /** Metadata keys of gRPC clients to forward; Rotor has no gRPC clients, kept for compatibility. */
  grpcMetadata: string[];
  /** Send and expect payloads as base64 (`b64data`/`b64info`) instead of embedded JSON. */
  binaryEncoding: boolean;
  /** Add the connection's `meta` (from the connect proxy result) to every later request. */
  includeConnectionMeta: boolean;
  http: {
    /** Sent with every request; forwarded client headers of the same name take precedence. */
    staticHeaders: Record<string, string>;
    /** Backend HTTP statuses answered as a client error or disconnect instead of error 100. */
    statusToCodeTransforms: StatusToCodeTransform[];
  };
}

/** One `http.status_to_code_transforms` entry: a `to_*.code` of 0 means "not set". */
export interface StatusToCodeTransform {
  statusCode: number;
  toError: { code: number; message: string; temporary: boolean };
  toDisconnect: { code: number; reason: string };
}

export interface SwitchableProxyConfig extends ProxyConfig {
  enabled: boolean;
}

export interface NamedProxyConfig extends ProxyConfig {
  name: string;
}

export interface RpcOptions {
  proxyEnabled: boolean;
  /** 'default' = rpc.proxy, any other name an entry of `proxies`. */
  proxyName: string;
}

export interface RpcConfig {
  proxy: ProxyConfig;
  withoutNamespace: RpcOptions;
  namespaces: Array<RpcOptions & { name: string }>;
  /** A built-in method answering an empty result without a proxy call. */
  ping: { enabled: boolean; method: string };
  /** Separates the rpc namespace from the method name ("ns:method"). */
  namespaceBoundary: string;
}

export interface ClientConfig {
  /** Connect proxy (clients without token) and refresh proxy (server-side connection refresh). */
  proxy: { connect: SwitchableProxyConfig; refresh: SwitchableProxyConfig };
  token: TokenConfig;
  subscriptionToken: SubscriptionTokenConfig;
  /** Allowed Origin patterns (`*` wildcard). Empty: only requests without Origin. */
  allowedOrigins: string[];
  allowAnonymousConnectWithoutToken: boolean;
  disallowAnonymousConnectionTokens: boolean;
  /** Development only: everything allowed, signatures still verified unless skip is set. */
  insecure: boolean;
  insecureSkipTokenSignatureVerify: boolean;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  staleCloseDelayMs: number;
  expiredCloseDelayMs: number;
  expiredSubCloseDelayMs: number;
  presenceUpdateIntervalMs: number;
  channelPositionCheckDelayMs: number;
  channelLimit: number;
  /** Connections per user per node; 0 = unlimited. */
  userConnectionLimit: number;
  /** Connections per node; 0 = unlimited. */
  connectionLimit: number;
  /** Outbound buffer limit per connection in bytes → disconnect 3008 "slow". */
  queueMaxSize: number;
  recoveryMaxPublicationLimit: number;
  historyMaxPublicationLimit: number;
  connectIncludeServerTime: boolean;
  subscribeToUserPersonalChannel: {
    enabled: boolean;
    personalChannelNamespace: string;
    singleConnection: boolean;
  };
}

export interface ChannelConfig {
  /** The 'default' proxies of namespaces' subscribe / publish / sub_refresh proxy options. */
  proxy: { subscribe: ProxyConfig; publish: ProxyConfig; subRefresh: ProxyConfig };
  withoutNamespace: NamespaceOptions;
  namespaces: Array<NamespaceOptions & { name: string }>;
  maxLength: number;
  historyMetaTtlMs: number;
  namespaceBoundary: string;
  userBoundary: string;
  userSeparator: string;
  privatePrefix: string;
}

export type ErrorMode = '' | 'transport';

export interface RotorConfig {
  client: ClientConfig;
  channel: ChannelConfig;
  websocket: {
    /** Maximum inbound WebSocket message; larger → close 1009. Default 65536. */
    messageSizeLimit: number;
    writeTimeoutMs: number;
    compression: boolean;
  };
  /** HTTP-streaming transport, /connection/http_stream (PROTOCOL.md §6.1). Off by default. */
  httpStream: { enabled: boolean; maxRequestBodySize: number };
  /** SSE transport, /connection/sse (PROTOCOL.md §6.2). Off by default. */
  sse: { enabled: boolean; maxRequestBodySize: number };
  /**
   * Unidirectional WebSocket, /connection/uni_websocket (PROTOCOL.md §6.3). Off by default.
   * `joinPushMessages`: pushes written together form one message, joined by '\n'.
   * `messageSizeLimit`: the largest connect request (first message or cf_connect).
   */
  uniWebsocket: { enabled: boolean; joinPushMessages: boolean; messageSizeLimit: number };
  /** Unidirectional HTTP-streaming, POST /connection/uni_http_stream (§6.3). Off by default. */
  uniHttpStream: { enabled: boolean; maxRequestBodySize: number };
  /** Unidirectional SSE, /connection/uni_sse (§6.3). Off by default. */
  uniSse: { enabled: boolean; maxRequestBodySize: number };
  /** The /emulation endpoint of the emulated transports (served while one of them is on). */
  emulation: { maxRequestBodySize: number };
  httpServer: { address: string; port: number };
  httpApi: {
    key: string;
    insecure: boolean;
    errorMode: ErrorMode;
    handlerPrefix: string;
    /** Request body limit for the HTTP API, bytes. */
    maxRequestBodySize: number;
  };
  grpcApi: {
    enabled: boolean;
    address: string;
    port: number;
    key: string;
    errorMode: ErrorMode;
    maxReceiveMessageSize: number;
  };
  prometheus: { enabled: boolean };
  health: { enabled: boolean };
  opentelemetry: { enabled: boolean; api: boolean };
  log: { level: 'debug' | 'info' | 'warn' | 'error' };
  shutdown: { timeoutMs: number };
  /** Client RPC, answered by the rpc proxy of the method's rpc namespace. */
  rpc: RpcConfig;
  /** Named proxies, selected with `*_proxy_name` options. */
  proxies: NamedProxyConfig[];
  /** Rotor's own settings (not in Centrifugo). */
  rotor: {
    nats: { url: string };
    /** Time over which a draining gateway spreads its 3001 disconnects. */
    drainWindowMs: number;
    /** Presence entries expire this long after their last refresh. */
    presenceTtlMs: number;
    history: {
      shards: number;
      /** JetStream stream name prefix; replicas for cluster deployments. */
      streamPrefix: string;
      replicas: number;
      /** Shard index of a `rotor history` process; -1 = the host name's ordinal suffix. */
      shard: number;
      /** Port of the history role's /health and /metrics server (0 = a free port). */
      httpPort: number;
    };
    /** Port of the api role's HTTP server (cluster mode); the embedded mode uses http_server.port. */
    apiPort: number;
    nodeName: string;
  };
}
