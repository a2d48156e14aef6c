// The method table shared by the HTTP and gRPC bindings: for every server API method, its names
// on each transport, its request and response message types, and how to call it on an
// ApiService and wrap the outcome. Keeping this as data means a binding is one generic loop, and a
// test can check the table against the generated service descriptor.
import { api } from '@rotor/proto';
import type { MessageType } from '@rotor/proto';
import type { ApiMethod, ApiService, CallContext } from './service.ts';

export interface MethodBinding {
  /** snake_case name: HTTP path segment, batch/legacy method name, metric label. */
  readonly name: ApiMethod;
  /** RPC name in service CentrifugoApi. */
  readonly grpcName: keyof typeof api.CentrifugoApiMethods;
  /** Integer of the legacy `POST /api` method enum; -1 when the legacy API lacks the method. */
  readonly legacyId: number;
  readonly requestType: MessageType<unknown>;
  readonly responseType: MessageType<unknown>;
  call(service: ApiService, request: unknown, ctx: CallContext): Promise<unknown>;
  /** The response message for a result (`{result}`; batch: the BatchResponse itself). */
  ok(result: unknown): unknown;
  /** The response message carrying an error, or null when the response has no error field (batch). */
  fail(error: api.Error): unknown;
}

function unary<Req, Res>(
  name: ApiMethod,
  grpcName: keyof typeof api.CentrifugoApiMethods,
  legacyId: number,
  requestType: MessageType<Req>,
  responseType: MessageType<{ error?: api.Error; result?: Res }>,
  call: (service: ApiService, req: Req, ctx: CallContext) => Promise<Res>,
): MethodBinding {
  return {
    name,
    grpcName,
    legacyId,
    requestType: requestType as MessageType<unknown>,
    responseType: responseType as MessageType<unknown>,
    call: call as MethodBinding['call'],
    ok: (result) => ({ result }),
    fail: (error) => ({ error }),
  };
}

export const METHODS: readonly MethodBinding[] = [
  {
    name: 'batch',
    grpcName: 'Batch',
    legacyId: -1,
    requestType: api.BatchRequest as MessageType<unknown>,
    responseType: api.BatchResponse as MessageType<unknown>,
    call: (s, req, ctx) => s.batch(req as api.BatchRequest, ctx),
    ok: (result) => result,
    fail: () => null,
  },
  unary('publish', 'Publish', 0, api.PublishRequest, api.PublishResponse, (s, r, c) => s.publish(r, c)),
  unary('broadcast', 'Broadcast', 1, api.BroadcastRequest, api.BroadcastResponse, (s, r, c) => s.broadcast(r, c)),
  unary('unsubscribe', 'Unsubscribe', 2, api.UnsubscribeRequest, api.UnsubscribeResponse, (s, r, c) => s.unsubscribe(r, c)),
  unary('disconnect', 'Disconnect', 3, api.DisconnectRequest, api.DisconnectResponse, (s, r, c) => s.disconnect(r, c)),
  unary('presence', 'Presence', 4, api.PresenceRequest, api.PresenceResponse, (s, r, c) => s.presence(r, c)),
  unary('presence_stats', 'PresenceStats', 5, api.PresenceStatsRequest, api.PresenceStatsResponse, (s, r, c) => s.presenceStats(r, c)),
  unary('history', 'History', 6, api.HistoryRequest, api.HistoryResponse, (s, r, c) => s.history(r, c)),
  unary('history_remove', 'HistoryRemove', 7, api.HistoryRemoveRequest, api.HistoryRemoveResponse, (s, r, c) => s.historyRemove(r, c)),
  unary('channels', 'Channels', 8, api.ChannelsRequest, api.ChannelsResponse, (s, r, c) => s.channels(r, c)),
  unary('info', 'Info', 9, api.InfoRequest, api.InfoResponse, (s, r, c) => s.info(r, c)),
  unary('rpc', 'RPC', 10, api.RPCRequest, api.RPCResponse, (s, r, c) => s.rpc(r, c)),
  unary('subscribe', 'Subscribe', 11, api.SubscribeRequest, api.SubscribeResponse, (s, r, c) => s.subscribe(r, c)),
  unary('refresh', 'Refresh', 12, api.RefreshRequest, api.RefreshResponse, (s, r, c) => s.refresh(r, c)),
];

export const METHODS_BY_NAME: ReadonlyMap<string, MethodBinding> = new Map(METHODS.map((m) => [m.name, m]));
export const METHODS_BY_LEGACY_ID: ReadonlyMap<number, MethodBinding> = new Map(
  METHODS.filter((m) => m.legacyId >= 0).map((m) => [m.legacyId, m]),
);
