// A second process for a served shard refuses to start. kill -9 of a history shard while a
// backend publishes to channels of both shards: publishes to the dead shard's channels fail with
// a clear temporary error (100) until it is back, the other shard's channels carry on, no
// acknowledged publication is lost, the epochs stay, and the clients of both channels see every
// publication once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shardOf } from '@rotor/nats';
import { waitFor, withDeadline } from '@rotor/testkit';
import { assertDeliveredExactlyOnce, SteadyPublisher, startCluster } from '../src/cluster.ts';
import { spawnRotor, START_TIMEOUT_MS } from '../src/rotor-process.ts';
import { SDK_BUILDS, subscriber } from '../src/sdk.ts';

test('a shard cannot run twice; kill -9 a history shard under load: temporary errors for its channels only, nothing acknowledged lost, epochs kept after the restart', { timeout: 150_000 }, async (t) => {
  const cluster = await startCluster(t, { shards: 2 });
  const gw = await cluster.startGateway();
  const names = Array.from({ length: 32 }, (_, i) => `chat:shard-${i}`);
  const onVictim = names.find((c) => shardOf(c, 2) === 0) as string;
  const onSurvivor = names.find((c) => shardOf(c, 2) === 1) as string;
  const token = await cluster.token('watcher');
  const subs = new Map(
    await Promise.all(
      [onVictim, onSurvivor].map(async (ch) => [ch, await Promise.all(SDK_BUILDS.map(([, Build]) => subscriber(t, Build, cluster.wsUrl(gw), ch, token)))] as const),
    ),
  );

  // A second process for a served shard refuses to start (single writer).
  const twin = spawnRotor(t, { args: ['history', '--shard', '0'], env: { ...cluster.env, ROTOR_NODE_NAME: 'history-0-twin' } });
  await withDeadline(twin.exited, START_TIMEOUT_MS, 'the second shard-0 process to give up');
  assert.equal(twin.exitCode, 1);
  assert.match(twin.stderr, /history shard 0 is already served by .* pid \d+.*refusing to run it twice/);

  const publisher = new SteadyPublisher((ch, data) => cluster.http('publish', { channel: ch, data }), [onVictim, onSurvivor]);
  t.after(() => publisher.stop());
  await publisher.waitForAcks(100, 30_000);
  const epochs = new Map([onVictim, onSurvivor].map((ch) => [ch, publisher.acksOf(ch)[0]?.epoch]));

  const killedAt = Date.now();
  await cluster.shards[0]?.kill();
  await waitFor(() => publisher.failures.length > 0, { timeoutMs: 15_000, what: 'a failed publish to the dead shard' });
  const firstFailureMs = (publisher.failures[0]?.at ?? 0) - killedAt;
  const survivorAcksAtKill = publisher.acksOf(onSurvivor).length;
  await waitFor(() => publisher.acksOf(onSurvivor).length >= survivorAcksAtKill + 20, { timeoutMs: 15_000, what: 'the other shard keeps acknowledging' });

  const restartAt = Date.now();
  await cluster.startShard(0);
  const victimAcksAtRestart = publisher.acksOf(onVictim).length;
  await waitFor(() => publisher.acksOf(onVictim).length >= victimAcksAtRestart + 50, { timeoutMs: 30_000, what: 'publishes to the restarted shard succeed' });
  const firstAckBack = publisher.acksOf(onVictim)[victimAcksAtRestart]?.at ?? 0;
  await publisher.stop();

  // The failures: only the dead shard's channel, each a temporary "internal" error saying why.
  assert.ok(publisher.failures.length > 0);
  for (const f of publisher.failures) {
    assert.equal(f.channel, onVictim, `failure on ${f.channel}: ${f.message}`);
    assert.equal(f.code, 100, f.message);
    assert.match(f.message, /history shard unavailable/);
  }
  for (const ch of [onVictim, onSurvivor]) {
    const acks = publisher.acksOf(ch);
    assert.deepEqual([...new Set(acks.map((a) => a.epoch))], [epochs.get(ch)], `${ch}: one epoch before and after the restart`);
    for (const [i, s] of (subs.get(ch) ?? []).entries()) await assertDeliveredExactlyOnce(`${ch} client ${i}`, s.publications, acks);
  }
  t.diagnostic(
    `history shard kill -9: first failed publish ${firstFailureMs} ms after the kill; ${publisher.failures.length} publishes failed (all code 100); ` +
      `the shard's channel acknowledged again ${firstAckBack - restartAt} ms after the restart began (outage ${firstAckBack - killedAt} ms); ` +
      `${publisher.acks.length} acknowledged publications checked on 4 clients`,
  );
});
