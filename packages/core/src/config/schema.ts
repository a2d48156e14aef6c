// The configuration schema as data: every file key Rotor understands (Centrifugo v6 names and
// defaults, plus our own `rotor.*`), its type, its default and its simple range checks. The
// loader walks this tree to decode files and environment variables; cross-field rules live in
// validate.ts.
//
// The decoded property of a key is its camelCase name (`hmac_secret_key` → `hmacSecretKey`),
// with `Ms` appended for durations (`ping_interval` → `pingIntervalMs`), unless `prop` says
// otherwise. Keys of kind `ignored` are Centrifugo options Rotor accepts but does not implement:
// they produce a warning when set to anything but an "off" value.

/** What a string value must additionally be. */
export type StringCheck = 'regex' | 'rsaPem' | 'ecPem' | 'httpUrl' | 'natsUrls' | 'claimName' | 'streamName' | 'nonEmpty';

export type Field =
  | { kind: 'string'; def: string; oneOf?: readonly string[]; check?: StringCheck; prop?: string }
  | { kind: 'bool'; def: boolean; prop?: string }
  | { kind: 'int'; def: number; min: number; max?: number; prop?: string }
  | { kind: 'duration'; def: number; wholeSeconds?: boolean; prop?: string }
  /** Unix seconds in the file, Unix milliseconds in the decoded config. */
  | { kind: 'unixSeconds'; def: number; prop?: string }
  | { kind: 'strings'; def: readonly string[]; oneOf?: readonly string[]; prop?: string }
  | { kind: 'object'; fields: Readonly<Record<string, Field>>; prop?: string }
  | { kind: 'namespaces'; prop?: string }
  /** A list of objects of `fields` (named proxies, rpc namespaces); item defaults from `fields`. */
  | { kind: 'objects'; fields: Readonly<Record<string, Field>>; prop?: string }
  /** An object of string values (static HTTP headers). */
  | { kind: 'stringMap'; prop?: string }
  | { kind: 'ignored'; why?: string; quietWhen?: (value: unknown) => boolean };

export type FieldKind = Field['kind'];

const KiB = 1024;
const MiB = 1024 * KiB;
const sec = 1000;
const hour = 3600 * sec;

const str = (def = '', extra: { oneOf?: readonly string[]; check?: StringCheck; prop?: string } = {}): Field => ({
  kind: 'string',
  def,
  ...extra,
});
const bool = (def = false): Field => ({ kind: 'bool', def });
const int = (def: number, min: number, max?: number): Field => ({ kind: 'int', def, min, ...(max === undefined ? {} : { max }) });
const dur = (defMs: number, wholeSeconds = false): Field => ({ kind: 'duration', def: defMs, ...(wholeSeconds ? { wholeSeconds } : {}) });
const obj = (fields: Record<string, Field>): Field => ({ kind: 'object', fields });
const ignored = (why?: string, quietWhen?: (value: unknown) => boolean): Field => ({
  kind: 'ignored',
  ...(why === undefined ? {} : { why }),
  ...(quietWhen === undefined ? {} : { quietWhen }),
});
/** Accepted silently: meaningful only together with a feature that is reported elsewhere. */
const passive: Field = { kind: 'ignored', quietWhen: () => true };

const port = (def: number): Field => int(def, 0, 65535);

/**
 * One proxy (Centrifugo's `Proxy`): used by client.proxy.connect/refresh, channel.proxy.*,
 * rpc.proxy and every item of `proxies`. Only the HTTP transport is implemented; a grpc://
 * endpoint is rejected by validate.ts.
 */
export const proxyFields: Readonly<Record<string, Field>> = {
  endpoint: str(),
  timeout: dur(1000),
  http_headers: { kind: 'strings', def: [] },
  // Metadata of gRPC *clients* (uni_grpc); Rotor has none, so the list never matches anything.
  grpc_metadata: { kind: 'strings', def: [] },
  binary_encoding: bool(),
  include_connection_meta: bool(),
  http: obj({
    static_headers: { kind: 'stringMap' },
    tls: ignored('outbound TLS options are not supported; https endpoints use the system CAs'),
    status_to_code_transforms: {
      kind: 'objects',
      fields: {
        status_code: int(0, 0, 599),
        to_error: obj({ code: int(0, 0, 0xffffffff), message: str(), temporary: bool() }),
        to_disconnect: obj({ code: int(0, 0, 4999), reason: str() }),
      },
    },
  }),
  grpc: ignored('gRPC proxies are not supported'),
};
const proxy = (extra: Record<string, Field> = {}): Field => obj({ ...extra, ...proxyFields });
const rpcOptionFields: Readonly<Record<string, Field>> = { proxy_enabled: bool(), proxy_name: str('default') };

const tokenFields: Record<string, Field> = {
  hmac_secret_key: str(),
  hmac_previous_secret_key: str(),
  hmac_previous_secret_key_valid_until: { kind: 'unixSeconds', def: 0 },
  rsa_public_key: str('', { check: 'rsaPem' }),
  ecdsa_public_key: str('', { check: 'ecPem' }),
  jwks_public_endpoint: str('', { check: 'httpUrl' }),
  audience: str(),
  audience_regex: str('', { check: 'regex' }),
  issuer: str(),
  issuer_regex: str('', { check: 'regex' }),
  user_id_claim: str('sub', { check: 'claimName' }),
  insecure_skip_jwks_endpoint_safety_check: bool(),
};

/** Per-namespace options (PROTOCOL.md §9). Shared by `channel.without_namespace` and namespaces. */
export const namespaceOptionFields: Readonly<Record<string, Field>> = {
  presence: bool(),
  join_leave: bool(),
  force_push_join_leave: bool(),
  history_size: int(0, 0),
  history_ttl: dur(0, true),
  history_meta_ttl: dur(0, true),
  force_positioning: bool(),
  allow_positioning: bool(),
  force_recovery: bool(),
  allow_recovery: bool(),
  force_recovery_mode: str('stream', { oneOf: ['', 'stream', 'cache'] }),
  auto_cache_recover: bool(),
  allowed_delta_types: { kind: 'strings', def: [], oneOf: ['fossil'] },
  delta_publish: bool(),
  allow_tags_filter: bool(),
  allow_subscribe_for_client: bool(),
  allow_subscribe_for_anonymous: bool(),
  allow_publish_for_client: bool(),
  allow_publish_for_subscriber: bool(),
  allow_publish_for_anonymous: bool(),
  allow_presence_for_client: bool(),
  allow_presence_for_subscriber: bool(),
  allow_presence_for_anonymous: bool(),
  allow_history_for_client: bool(),
  allow_history_for_subscriber: bool(),
  allow_history_for_anonymous: bool(),
  allow_user_limited_channels: bool(),
  channel_regex: str('', { check: 'regex' }),
  publication_data_format: str('', { oneOf: ['', 'json', 'json_object', 'binary'] }),
  subscribe_proxy_enabled: bool(),
  publish_proxy_enabled: bool(),
  sub_refresh_proxy_enabled: bool(),
  subscribe_stream_proxy_enabled: bool(),
  subscribe_proxy_name: str('default'),
  publish_proxy_name: str('default'),
  sub_refresh_proxy_name: str('default'),
  subscribe_stream_proxy_name: passive,
  subscribe_stream_proxy_bidirectional: passive,
  subscribe_stream_bidirectional: passive,
  subscription_type: ignored(
    'only stream subscriptions are supported; map and shared poll subscriptions answer 108',
    (v) => v === 'stream' || v === '',
  ),
  map: ignored('map subscriptions are not supported'),
  shared_poll: ignored('shared poll subscriptions are not supported'),
  map_clients_presence_channel_prefix: ignored('map subscriptions are not supported'),
  map_users_presence_channel_prefix: ignored('map subscriptions are not supported'),
  allow_channel_compaction: ignored('a Centrifugo PRO option'),
};

const unsupportedSection = 'a Centrifugo feature Rotor does not implement';

export const schema: Readonly<Record<string, Field>> = {
  client: obj({
    token: obj(tokenFields),
    subscription_token: obj({ enabled: bool(), ...tokenFields }),
    allowed_origins: { kind: 'strings', def: [] },
    allow_anonymous_connect_without_token: bool(),
    disallow_anonymous_connection_tokens: bool(),
    insecure: bool(),
    insecure_skip_token_signature_verify: bool(),
    ping_interval: dur(25 * sec),
    pong_timeout: dur(8 * sec),
    stale_close_delay: dur(10 * sec),
    expired_close_delay: dur(25 * sec),
    expired_sub_close_delay: dur(25 * sec),
    presence_update_interval: dur(27 * sec),
    channel_position_check_delay: dur(40 * sec),
    channel_limit: int(128, 0),
    user_connection_limit: int(0, 0),
    connection_limit: int(0, 0),
    queue_max_size: int(MiB, 1),
    recovery_max_publication_limit: int(300, 0),
    history_max_publication_limit: int(300, 0),
    connect_include_server_time: bool(),
    subscribe_to_user_personal_channel: obj({
      enabled: bool(),
      personal_channel_namespace: str(),
      single_connection: bool(),
    }),
    proxy: obj({ connect: proxy({ enabled: bool() }), refresh: proxy({ enabled: bool() }) }),
    connect_proxy_name: ignored('a Centrifugo v5 key; v6 uses client.proxy.connect'),
    refresh_proxy_name: ignored('a Centrifugo v5 key; v6 uses client.proxy.refresh'),
    concurrency: ignored(),
    channel_position_max_time_lag: ignored(),
    connection_rate_limit: ignored(),
    user_id_http_header: ignored(),
    allowed_delta_types: ignored('set allowed_delta_types per namespace'),
    connect_code_to_unidirectional_disconnect: ignored('unidirectional transports are not supported'),
  }),
  channel: obj({
    without_namespace: obj(namespaceOptionFields),
    namespaces: { kind: 'namespaces' },
    max_length: int(255, 1),
    history_meta_ttl: dur(720 * hour, true),
    namespace_boundary: str(':', { check: 'nonEmpty' }),
    user_boundary: str('#', { check: 'nonEmpty' }),
    user_separator: str(',', { check: 'nonEmpty' }),
    private_prefix: str('$', { check: 'nonEmpty' }),
    proxy: obj({
      subscribe: proxy(),
      publish: proxy(),
      sub_refresh: proxy(),
      subscribe_stream: ignored('subscription streams are not supported'),
    }),
    publication_data_format: ignored('set publication_data_format per namespace'),
  }),
  websocket: obj({
    message_size_limit: int(64 * KiB, 1, 64 * MiB),
    write_timeout: dur(1000),
    compression: bool(),
    disabled: ignored('the WebSocket transport is always on'),
    handler_prefix: ignored('the WebSocket endpoint is /connection/websocket', (v) => v === '/connection/websocket'),
    compression_min_size: ignored(),
    compression_level: ignored(),
    read_buffer_size: ignored(),
    write_buffer_size: ignored(),
    use_write_buffer_pool: ignored(),
    decompressed_message_size_limit: ignored(),
  }),
  http_stream: obj({
    enabled: bool(),
    max_request_body_size: int(64 * KiB, 1, 64 * MiB),
    handler_prefix: ignored('the HTTP-streaming endpoint is /connection/http_stream', (v) => v === '/connection/http_stream'),
  }),
  sse: obj({
    enabled: bool(),
    max_request_body_size: int(64 * KiB, 1, 64 * MiB),
    handler_prefix: ignored('the SSE endpoint is /connection/sse', (v) => v === '/connection/sse'),
  }),
  // Unidirectional transports (PROTOCOL.md §6.3): JSON pushes only, clients send nothing after connect.
  uni_websocket: obj({
    enabled: bool(),
    // Several pushes of one write go out as one WebSocket message, joined by '\n'.
    join_push_messages: bool(),
    // The connect request when it comes as the first WebSocket message (or cf_connect).
    message_size_limit: int(64 * KiB, 1, 64 * MiB),
    handler_prefix: ignored('the unidirectional WebSocket endpoint is /connection/uni_websocket', (v) => v === '/connection/uni_websocket'),
    write_timeout: ignored(),
    compression: ignored(),
    compression_min_size: ignored(),
    compression_level: ignored(),
    read_buffer_size: ignored(),
    write_buffer_size: ignored(),
    use_write_buffer_pool: ignored(),
    disable_closing_handshake: ignored(),
    disable_disconnect_push: ignored(),
  }),
  uni_http_stream: obj({
    enabled: bool(),
    max_request_body_size: int(64 * KiB, 1, 64 * MiB),
    handler_prefix: ignored('the unidirectional HTTP-streaming endpoint is /connection/uni_http_stream', (v) => v === '/connection/uni_http_stream'),
  }),
  uni_sse: obj({
    enabled: bool(),
    max_request_body_size: int(64 * KiB, 1, 64 * MiB),
    handler_prefix: ignored('the unidirectional SSE endpoint is /connection/uni_sse', (v) => v === '/connection/uni_sse'),
  }),
  emulation: obj({
    max_request_body_size: int(64 * KiB, 1, 64 * MiB),
    handler_prefix: ignored('the emulation endpoint is /emulation', (v) => v === '/emulation'),
  }),
  http_server: obj({
    address: str(),
    port: port(8000),
    internal_address: ignored(),
    internal_port: ignored(),
    tls: ignored('terminate TLS in front of Rotor'),
    tls_autocert: ignored('terminate TLS in front of Rotor'),
    tls_external: ignored(),
    internal_tls: ignored(),
    http3: ignored(),
  }),
  http_api: obj({
    key: str(),
    insecure: bool(),
    error_mode: str('', { oneOf: ['', 'transport'] }),
    handler_prefix: str('/api'),
    max_request_body_size: int(4 * MiB, 1),
    disabled: ignored(),
    external: ignored(),
  }),
  grpc_api: obj({
    enabled: bool(),
    address: str(),
    port: port(10000),
    key: str(),
    error_mode: str('', { oneOf: ['', 'transport'] }),
    max_receive_message_size: int(4 * MiB, 0),
    tls: ignored('terminate TLS in front of Rotor'),
    reflection: ignored(),
  }),
  prometheus: obj({
    enabled: bool(),
    handler_prefix: ignored('metrics are served at /metrics', (v) => v === '/metrics'),
    instrument_http_handlers: ignored(),
  }),
  health: obj({
    enabled: bool(),
    handler_prefix: ignored('health is served at /health', (v) => v === '/health'),
  }),
  opentelemetry: obj({ enabled: bool(), api: bool(), consuming: ignored() }),
  log: obj({
    level: str('info', { oneOf: ['debug', 'info', 'warn', 'error', 'trace', 'none'] }),
    file: ignored('logs go to stderr'),
  }),
  shutdown: obj({ timeout: dur(30 * sec) }),
  rpc: obj({
    proxy: proxy(),
    without_namespace: obj(rpcOptionFields),
    namespaces: { kind: 'objects', fields: { name: str(), ...rpcOptionFields } },
    ping: obj({ enabled: bool(), method: str('ping', { check: 'nonEmpty' }) }),
    namespace_boundary: str(':', { check: 'nonEmpty' }),
  }),
  proxies: { kind: 'objects', fields: { name: str(), ...proxyFields } },
  rotor: obj({
    nats: obj({ url: str('nats://127.0.0.1:4222', { check: 'natsUrls' }) }),
    drain_window: dur(10 * sec),
    presence_ttl: dur(60 * sec),
    history: obj({
      shards: int(1, 1, 1024),
      stream_prefix: str('ROTOR', { check: 'streamName' }),
      replicas: int(1, 1, 5),
      // This process's shard index for `rotor history` (ROTOR_HISTORY_SHARD); -1: the ordinal
      // suffix of the host name (StatefulSet pod "rotor-history-3" → 3).
      shard: int(-1, -1, 1023),
      // The history role's /health and /metrics port (0: a free port, logged at start).
      http_port: port(8080),
    }),
    api_port: port(9000),
    node_name: str('', { check: 'nonEmpty' }),
  }),
  // Centrifugo sections Rotor does not implement.
  engine: ignored(`${unsupportedSection}; Rotor keeps state in NATS (rotor.nats.url)`),
  broker: ignored(`${unsupportedSection}; Rotor uses NATS (rotor.nats.url)`),
  presence_manager: ignored(`${unsupportedSection}; presence lives in the history shards`),
  map_broker: ignored(unsupportedSection),
  unified_proxy: ignored('the unified proxy is not supported; use client.proxy, channel.proxy, rpc.proxy and proxies'),
  consumers: ignored(unsupportedSection),
  webtransport: ignored(unsupportedSection),
  uni_grpc: ignored(unsupportedSection),
  admin: ignored(unsupportedSection),
  swagger: ignored(unsupportedSection),
  debug: ignored(unsupportedSection),
  dev: ignored(unsupportedSection),
  init: ignored(unsupportedSection),
  graphite: ignored(unsupportedSection),
  shared_poll: ignored(unsupportedSection),
  node: ignored('use rotor.node_name'),
  pid_file: ignored(),
  enable_unreleased_features: ignored(),
  usage_stats: passive,
};

/** Centrifugo v5 (flat) keys, so their authors get a pointer to the v6 path instead of silence. */
export const v5Hints: Readonly<Record<string, string>> = {
  token_hmac_secret_key: 'client.token.hmac_secret_key',
  token_rsa_public_key: 'client.token.rsa_public_key',
  token_ecdsa_public_key: 'client.token.ecdsa_public_key',
  token_jwks_public_endpoint: 'client.token.jwks_public_endpoint',
  token_audience: 'client.token.audience',
  token_issuer: 'client.token.issuer',
  api_key: 'http_api.key',
  api_insecure: 'http_api.insecure',
  grpc_api: 'grpc_api.enabled',
  grpc_api_port: 'grpc_api.port',
  grpc_api_key: 'grpc_api.key',
  allowed_origins: 'client.allowed_origins',
  namespaces: 'channel.namespaces',
  port: 'http_server.port',
  address: 'http_server.address',
  presence: 'channel.without_namespace.presence',
  join_leave: 'channel.without_namespace.join_leave',
  history_size: 'channel.without_namespace.history_size',
  history_ttl: 'channel.without_namespace.history_ttl',
  force_recovery: 'channel.without_namespace.force_recovery',
  allow_subscribe_for_client: 'channel.without_namespace.allow_subscribe_for_client',
  allow_anonymous_connect_without_token: 'client.allow_anonymous_connect_without_token',
  client_insecure: 'client.insecure',
  client_channel_limit: 'client.channel_limit',
  client_queue_max_size: 'client.queue_max_size',
  ping_interval: 'client.ping_interval',
  pong_timeout: 'client.pong_timeout',
  websocket_message_size_limit: 'websocket.message_size_limit',
  log_level: 'log.level',
};

/** The decoded property name of a file key. */
export function propName(key: string, field: Field): string {
  if ('prop' in field && field.prop !== undefined) return field.prop;
  const camel = key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  return field.kind === 'duration' ? `${camel}Ms` : camel;
}
