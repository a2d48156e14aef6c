// Cluster mode: /emulation requests that land on another gateway process are routed to the one
// holding the stream over NATS (NatsEmulationRelay, a real nats-server). Two gateways; the SDK's
// stream goes to A while its emulation endpoint is B, as when several gateways share a port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Centrifuge } from 'centrifuge';
import { Collector, deferred, startNatsServer, waitFor } from '@rotor/testkit';
import { NatsEmulationRelay, closeNats, connectNats } from '@rotor/nats';
import type { NatsConnection } from 'nats';
import { startTestGateway, token } from './harness.ts';

const config = {
  http_stream: { enabled: true },
  sse: { enabled: true },
  channel: { namespaces: [{ name: 'chat', allow_subscribe_for_client: true, allow_history_for_subscriber: true, history_size: 10, history_ttl: '60s' }] },
};

test('an emulation request landing on the other gateway is routed to the stream owner; 404 once no such node lives', async () => {
  // Torn down in order: gateways, then the NATS connections, then (await using) the server.
  await using nats = await startNatsServer();
  const [ncA, ncB] = await Promise.all([connectNats({ url: nats.url, name: 'gw-a' }), connectNats({ url: nats.url, name: 'gw-b' })]);
  const cleanup: Array<() => Promise<void> | void> = [() => closeNats(ncA), () => closeNats(ncB)];
  try {
    await scenario(ncA, ncB, cleanup);
  } finally {
    for (const step of cleanup.reverse()) await step();
  }
});

async function scenario(ncA: NatsConnection, ncB: NatsConnection, cleanup: Array<() => Promise<void> | void>): Promise<void> {
  const a = await startTestGateway(config, { emulationRelay: new NatsEmulationRelay(ncA) });
  cleanup.push(() => a.close());
  const b = await startTestGateway(config, { emulationRelay: new NatsEmulationRelay(ncB) });
  cleanup.push(() => b.close());

  const client = new Centrifuge([{ transport: 'http_stream', endpoint: `${a.httpUrl}/connection/http_stream` }], {
    token: await token({ sub: 'alice' }),
    emulationEndpoint: `${b.httpUrl}/emulation`,
    fetch: globalThis.fetch,
    readableStream: globalThis.ReadableStream,
  });
  cleanup.push(() => client.disconnect());
  const connected = deferred();
  client.on('connected', () => connected.resolve());
  client.connect();
  await connected.promise;
  const sub = client.newSubscription('chat:x');
  const pubs = new Collector<unknown>('publications');
  sub.on('publication', (p) => pubs.push(p.data));
  sub.subscribe();
  // The subscribe went to B and was answered on A's stream.
  await sub.ready(15_000);
  assert.equal(a.gateway.metrics.channels, 1);
  assert.equal(b.gateway.metrics.channels, 0);
  await a.publish('chat:x', { n: 1 });
  assert.deepEqual(await pubs.waitFor(1), [{ n: 1 }]);
  const h = await sub.history({ limit: 5 });
  assert.equal(h.publications.length, 1);

  // Raw requests to B: an unknown node is 404; A's node with a gone session is 204.
  const post = (node: string) =>
    fetch(`${b.httpUrl}/emulation`, { method: 'POST', body: JSON.stringify({ session: 'gone', node, data: '{}' }), headers: { 'content-type': 'application/json' } });
  assert.equal((await post(a.gateway.nodeId)).status, 204);
  assert.equal((await post('00000000-0000-4000-8000-000000000000')).status, 404);

  // A goes away: its node id is unknown from then on.
  const nodeA = a.gateway.nodeId;
  client.disconnect();
  await a.close();
  await waitFor(async () => (await post(nodeA)).status === 404, { what: 'A unknown after it closed', timeoutMs: 15_000 });
}
