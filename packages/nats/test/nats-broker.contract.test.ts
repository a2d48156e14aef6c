// The core Broker contract suite against NatsBroker on a real nats-server (one per file).
//
// The nodes of one fixture share one NATS connection. Reason: the suite's first test publishes 200
// events from one node and then 10 from another and asserts one global order, which is stronger
// than the Broker contract (order per publisher) and which NATS cannot give across two
// connections (the server reads each socket independently). Cross-connection delivery, isolation
// and reconnects are covered in nats-broker.test.ts with separate connections.
import { after, before } from 'node:test';
import { runBrokerContract } from '@rotor/core/testing';
import { startNatsServer, type NatsServerHandle } from '@rotor/testkit';
import { closeNats, connectNats } from '../src/connection.ts';
import { NatsBroker } from '../src/nats-broker.ts';

let server: NatsServerHandle;
before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server[Symbol.asyncDispose]();
});

runBrokerContract('NatsBroker', async () => {
  const nc = await connectNats({ url: server.url, name: 'contract' });
  const nodes: NatsBroker[] = [];
  return {
    newNode() {
      const broker = new NatsBroker(nc);
      nodes.push(broker);
      return broker;
    },
    async dispose() {
      await Promise.all(nodes.map((n) => n.close()));
      await closeNats(nc);
    },
  };
});
