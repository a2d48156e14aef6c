// nats-server restarted (same port, same JetStream store) under a steady publish load: every
// process notices (health 503, temporary errors for publishes), reconnects by itself, the
// gateways resubscribe, and every client of both gateways gets every acknowledged publication
// exactly once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shardOf } from '@rotor/nats';
import { waitFor } from '@rotor/testkit';
import { assertDeliveredExactlyOnce, SteadyPublisher, startCluster } from '../src/cluster.ts';
import { SDK_BUILDS, subscriber } from '../src/sdk.ts';

async function healthStatus(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
}

test('restart nats-server under load: processes reconnect, gateways resubscribe, clients get every acknowledged publication once, in order', { timeout: 150_000 }, async (t) => {
  const cluster = await startCluster(t, { shards: 2 });
  const [a, b] = await Promise.all([cluster.startGateway(), cluster.startGateway()]);
  const names = Array.from({ length: 32 }, (_, i) => `chat:restart-${i}`);
  const channels = [names.find((c) => shardOf(c, 2) === 0) as string, names.find((c) => shardOf(c, 2) === 1) as string];
  const token = await cluster.token('watcher');
  const subs = await Promise.all(
    channels.flatMap((ch) => [a, b].flatMap((gw) => SDK_BUILDS.map(async ([format, Build]) => ({ what: `${ch} ${format} on ${gw === a ? 'A' : 'B'}`, ch, s: await subscriber(t, Build, cluster.wsUrl(gw), ch, token) })))),
  );

  // Four requests in flight at a time: some are on their way when the server goes.
  const publisher = new SteadyPublisher((ch, data) => cluster.http('publish', { channel: ch, data }), channels, 2, 4);
  t.after(() => publisher.stop());
  await publisher.waitForAcks(100, 30_000);

  const stopAt = Date.now();
  await cluster.nats.stop();
  // While NATS is away: readiness is off everywhere and publishes fail fast with a temporary error.
  await waitFor(async () => (await healthStatus(a.httpPort)) === 503 && (await healthStatus(cluster.api?.httpPort ?? 0)) === 503, {
    timeoutMs: 10_000,
    what: 'gateway and api /health 503 while NATS is down',
  });
  const failuresAtStop = publisher.failures.length;
  await waitFor(() => publisher.failures.length > failuresAtStop, { timeoutMs: 10_000, what: 'a publish failing while NATS is down' });
  await cluster.nats.restart();
  const restartAt = Date.now();
  const acksAtRestart = publisher.acks.length;
  await publisher.waitForAcks(100, 30_000);
  const firstAckBack = publisher.acks[acksAtRestart]?.at ?? 0;
  await waitFor(async () => (await healthStatus(a.httpPort)) === 200 && (await healthStatus(b.httpPort)) === 200, { timeoutMs: 10_000, what: 'gateways ready again' });
  await publisher.stop();

  for (const f of publisher.failures) assert.equal(f.code, 100, `${f.channel} n=${f.n}: ${f.message}`);
  for (const ch of channels) assert.equal(new Set(publisher.acksOf(ch).map((x) => x.epoch)).size, 1, `${ch}: the epoch survives the restart`);
  for (const { what, ch, s } of subs) await assertDeliveredExactlyOnce(what, s.publications, publisher.acksOf(ch));
  const epochs = channels.map((ch) => new Set(publisher.acksOf(ch).map((x) => x.epoch)).size);
  t.diagnostic(
    `nats restart: server away ${restartAt - stopAt} ms; first acknowledged publish ${firstAckBack - restartAt} ms after the new server accepted connections; ` +
      `${publisher.failures.length} publishes failed (code 100); epochs per channel ${JSON.stringify(epochs)}; ` +
      `${publisher.acks.length} acknowledged publications checked on ${subs.length} clients`,
  );
});
