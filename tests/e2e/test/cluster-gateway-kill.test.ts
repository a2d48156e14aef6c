// kill -9 of a gateway under a steady publish load: its clients reconnect to the other gateway,
// which shares the port (SO_REUSEPORT), and recover with nothing lost and nothing twice —
// checked offset by offset for every client, JSON and protobuf.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertDeliveredExactlyOnce, SteadyPublisher, startCluster } from '../src/cluster.ts';
import { SDK_BUILDS, subscriber } from '../src/sdk.ts';

test('kill -9 a gateway under load: its clients move to the gateway on the same port and recover every publication once', { timeout: 150_000 }, async (t) => {
  const cluster = await startCluster(t, { shards: 1 });
  // A first, so every client is on A; then B on the same port.
  const a = await cluster.startGateway();
  const channel = 'chat:steady';
  const token = await cluster.token('watcher');
  const subs = await Promise.all(SDK_BUILDS.flatMap(([, Build]) => [0, 1, 2].map(() => subscriber(t, Build, cluster.wsUrl(a), channel, token))));
  const b = await cluster.startGateway(a.httpPort);
  assert.equal(b.httpPort, a.httpPort, 'both gateways listen on one port');

  const publisher = new SteadyPublisher((ch, data) => cluster.http('publish', { channel: ch, data }), [channel]);
  t.after(() => publisher.stop());
  await publisher.waitForAcks(100, 30_000);
  const killedAt = Date.now();
  const ackedAtKill = publisher.acks.length;
  await a.kill();
  await Promise.all(subs.map((s) => s.subscribed.waitFor(2, 30_000)));
  const recoveredAt = Date.now();
  const ackedWhileAway = publisher.acks.length - ackedAtKill;
  await publisher.waitForAcks(100, 30_000);
  await publisher.stop();

  assert.deepEqual(publisher.failures, [], 'killing a gateway fails no publish');
  const acks = publisher.acksOf(channel);
  for (const [i, s] of subs.entries()) {
    const again = s.subscribed.items[1];
    assert.ok(again?.wasRecovering === true && again.recovered === true, `client ${i} recovered (${JSON.stringify(again)})`);
    await assertDeliveredExactlyOnce(`client ${i}`, s.publications, acks);
  }
  t.diagnostic(
    `gateway kill -9: ${subs.length} clients resubscribed on the other gateway ${recoveredAt - killedAt} ms after the kill; ` +
      `${ackedWhileAway} publications acknowledged meanwhile; ${acks.length} checked per client`,
  );
});
