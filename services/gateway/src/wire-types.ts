// The client-protocol message types the gateway uses, from @rotor/proto's generated code (camelCase
// properties, all optional, maps as prototype-less objects).
import type { client } from '@rotor/proto';

export type ClientInfo = client.ClientInfo;
export type Publication = client.Publication;
export type Command = client.Command;
export type Reply = client.Reply;
export type Push = client.Push;
export type ConnectRequest = client.ConnectRequest;
export type ConnectResult = client.ConnectResult;
export type SubscribeRequest = client.SubscribeRequest;
export type SubscribeResult = client.SubscribeResult;
export type UnsubscribeRequest = client.UnsubscribeRequest;
export type PublishRequest = client.PublishRequest;
export type PresenceRequest = client.PresenceRequest;
export type PresenceStatsRequest = client.PresenceStatsRequest;
export type HistoryRequest = client.HistoryRequest;
export type RefreshRequest = client.RefreshRequest;
export type SubRefreshRequest = client.SubRefreshRequest;
export type RPCRequest = client.RPCRequest;
