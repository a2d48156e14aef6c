// The core contract suites against the cluster clients (ShardHistoryClient, ShardPresenceClient,
// ClusterPublisher) talking to in-process history shards over a real nats-server with JetStream.
import { after, before } from 'node:test';
import { runHistoryStoreContract, runPresenceStoreContract, runPublisherContract } from '@rotor/core/testing';
import { startNatsServer, type NatsServerHandle } from '@rotor/testkit';
import { closeNats, connectNats, ClusterPublisher, NatsBroker, ShardHistoryClient, ShardPresenceClient } from '@rotor/nats';
import { startSlice } from './fixture.ts';

let server: NatsServerHandle;
before(async () => {
  server = await startNatsServer({ jetstream: true });
});
after(async () => {
  await server[Symbol.asyncDispose]();
});

runHistoryStoreContract('ShardHistoryClient (2 shards)', async () => {
  const slice = await startSlice(server.url, { shards: 2 });
  return { store: new ShardHistoryClient(slice.router), clock: slice.clock, dispose: () => slice.dispose() };
});

runPresenceStoreContract('ShardPresenceClient (2 shards)', async () => {
  const slice = await startSlice(server.url, { shards: 2 });
  return { store: new ShardPresenceClient(slice.router), clock: slice.clock, dispose: () => slice.dispose() };
});

runPublisherContract('ClusterPublisher (2 shards)', async () => {
  const slice = await startSlice(server.url, { shards: 2 });
  // The observer is another node: its own connection.
  const nc = await connectNats({ url: server.url, name: 'observer' });
  const observer = new NatsBroker(nc, { subjects: slice.subjects });
  return {
    publisher: new ClusterPublisher(slice.router, slice.broker, slice.clock),
    observer,
    history: new ShardHistoryClient(slice.router),
    clock: slice.clock,
    async dispose() {
      await observer.close();
      await closeNats(nc);
      await slice.dispose();
    },
  };
});
