// Public surface of @rotor/nats: NATS adapters of the core contracts and the one subject mapping.
export { Subjects, channelToken, tokenToChannel, MAX_SUBJECT_LENGTH } from './subjects.ts';
export { channelHash, shardOf } from './shard.ts';
export { connectNats, connectNatsWaiting, closeNats, natsServers, NatsConnectionMonitor } from './connection.ts';
export type { NatsConnectOptions, ConnectWaitingOptions, NatsEventLog, MonitorOptions } from './connection.ts';
export { NatsBroker } from './nats-broker.ts';
export type { NatsBrokerOptions } from './nats-broker.ts';
export * from './envelope.ts';
export { DecodeError } from '@rotor/proto';
export { Requester, RequestError } from './requester.ts';
export { ShardRouter, ShardHistoryClient, ShardPresenceClient, ClusterPublisher } from './shard-client.ts';
export type { ShardClientOptions } from './shard-client.ts';
export { NatsControlBus } from './nats-control-bus.ts';
export type { NatsControlBusOptions } from './nats-control-bus.ts';
export { NatsEmulationRelay, encodeEmulationMessage, decodeEmulationMessage } from './emulation-relay.ts';
export type { NatsEmulationRelayOptions } from './emulation-relay.ts';
