// The core Broker contract suite against NatsBroker on a real nats-server (one per file). Every
// node of a fixture has a NATS connection of its own, as separate processes do.
import { after, before } from 'node:test';
import { runBrokerContract } from '@rotor/core/testing';
import { startNatsServer, type NatsServerHandle } from '@rotor/testkit';
import { connectNats } from '../src/connection.ts';
import { NatsBroker } from '../src/nats-broker.ts';

let server: NatsServerHandle;
before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server[Symbol.asyncDispose]();
});

runBrokerContract('NatsBroker', async () => {
  const nodes: NatsBroker[] = [];
  return {
    async newNode() {
      const nc = await connectNats({ url: server.url, name: `contract-${nodes.length}` });
      const broker = new NatsBroker(nc, { ownsConnection: true });
      nodes.push(broker);
      return broker;
    },
    async dispose() {
      await Promise.all(nodes.map((n) => n.close()));
    },
  };
});
