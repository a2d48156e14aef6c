// The core HistoryStore contract suite against the shard's JetStream-backed store (in process,
// real nats-server with JetStream, manual clock).
import { after, before } from 'node:test';
import { ManualClock, runHistoryStoreContract } from '@rotor/core/testing';
import { startNatsServer, type NatsServerHandle } from '@rotor/testkit';
import { closeNats, connectNats, Subjects } from '@rotor/nats';
import { JetStreamHistoryStore } from '../src/jetstream-history-store.ts';

let server: NatsServerHandle;
before(async () => {
  server = await startNatsServer({ jetstream: true });
});
after(async () => {
  await server[Symbol.asyncDispose]();
});

let n = 0;
runHistoryStoreContract('JetStreamHistoryStore', async () => {
  const nc = await connectNats({ url: server.url });
  const clock = new ManualClock();
  // Each fixture gets its own streams (a fresh stream prefix and subject prefix).
  n++;
  const store = await JetStreamHistoryStore.open({ nc, shard: 0, streamPrefix: `T${n}`, subjects: new Subjects(`t${n}`), replicas: 1, clock, sweepIntervalMs: 0 });
  return {
    store,
    clock,
    async dispose() {
      await store.close();
      await closeNats(nc);
    },
  };
});
