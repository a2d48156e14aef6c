// TEMPORARY mirror of the client-protocol message types that @rotor/proto generates (camelCase
// properties, all optional, maps as plain objects), limited to what the gateway touches. Replaced
// by a re-export from @rotor/proto as soon as the proto branch lands; no behaviour lives here.

export interface ClientInfo {
  user?: string;
  client?: string;
  connInfo?: Uint8Array;
  chanInfo?: Uint8Array;
}

export interface Publication {
  data?: Uint8Array;
  info?: ClientInfo;
  offset?: number;
  tags?: Record<string, string>;
  time?: number;
}

export interface ProtoError {
  code?: number;
  message?: string;
  temporary?: boolean;
}

export interface StreamPositionMsg {
  offset?: number;
  epoch?: string;
}

export interface ConnectRequest {
  token?: string;
  data?: Uint8Array;
  subs?: Record<string, SubscribeRequest>;
  name?: string;
  version?: string;
  headers?: Record<string, string>;
}

export interface SubscribeRequest {
  channel?: string;
  token?: string;
  recover?: boolean;
  epoch?: string;
  offset?: number;
  data?: Uint8Array;
  positioned?: boolean;
  recoverable?: boolean;
  joinLeave?: boolean;
  delta?: string;
  tf?: object;
  flag?: number;
  type?: number;
}

export interface UnsubscribeRequest {
  channel?: string;
}
export interface PublishRequest {
  channel?: string;
  data?: Uint8Array;
  type?: number;
}
export interface PresenceRequest {
  channel?: string;
}
export interface PresenceStatsRequest {
  channel?: string;
}
export interface HistoryRequest {
  channel?: string;
  limit?: number;
  since?: StreamPositionMsg;
  reverse?: boolean;
}
export interface RPCRequest {
  data?: Uint8Array;
  method?: string;
}
export interface SendRequest {
  data?: Uint8Array;
}
export interface RefreshRequest {
  token?: string;
}
export interface SubRefreshRequest {
  channel?: string;
  token?: string;
  type?: number;
}

export interface Command {
  id?: number;
  connect?: ConnectRequest;
  subscribe?: SubscribeRequest;
  unsubscribe?: UnsubscribeRequest;
  publish?: PublishRequest;
  presence?: PresenceRequest;
  presenceStats?: PresenceStatsRequest;
  history?: HistoryRequest;
  ping?: object;
  send?: SendRequest;
  rpc?: RPCRequest;
  refresh?: RefreshRequest;
  subRefresh?: SubRefreshRequest;
}

export interface SubscribeResult {
  expires?: boolean;
  ttl?: number;
  recoverable?: boolean;
  epoch?: string;
  publications?: Publication[];
  recovered?: boolean;
  offset?: number;
  positioned?: boolean;
  data?: Uint8Array;
  wasRecovering?: boolean;
}

export interface ConnectResult {
  client?: string;
  version?: string;
  expires?: boolean;
  ttl?: number;
  data?: Uint8Array;
  subs?: Record<string, SubscribeResult>;
  ping?: number;
  pong?: boolean;
  time?: number;
}

export interface Unsubscribe {
  code?: number;
  reason?: string;
}

export interface Subscribe {
  recoverable?: boolean;
  epoch?: string;
  offset?: number;
  positioned?: boolean;
  data?: Uint8Array;
}

export interface Push {
  channel?: string;
  pub?: Publication;
  join?: { info?: ClientInfo };
  leave?: { info?: ClientInfo };
  unsubscribe?: Unsubscribe;
  subscribe?: Subscribe;
}

export interface Reply {
  id?: number;
  error?: ProtoError;
  push?: Push;
  connect?: ConnectResult;
  subscribe?: SubscribeResult;
  unsubscribe?: object;
  publish?: object;
  presence?: { presence?: Record<string, ClientInfo> };
  presenceStats?: { numClients?: number; numUsers?: number };
  history?: { publications?: Publication[]; epoch?: string; offset?: number };
  rpc?: { data?: Uint8Array };
  refresh?: { client?: string; version?: string; expires?: boolean; ttl?: number };
  subRefresh?: { expires?: boolean; ttl?: number };
}
