// The api role's liveness endpoint: GET /health/live answers 200 for as long as the process
// serves, whatever its readiness checks say (a NATS outage takes the pod out of the load
// balancer through /health, but must not get it restarted by the liveness probe).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChannelSequencer, MemoryBroker, MemoryControlBus, MemoryHistoryStore, MemoryPresenceStore } from '@rotor/core';
import { startApiRole } from '../src/index.ts';
import { testConfig } from './harness.ts';

test('the api role: /health/live stays 200 while /health follows NATS; the port closes with the role', async () => {
  const broker = new MemoryBroker();
  const history = new MemoryHistoryStore({ sweepIntervalMs: 0 });
  const presence = new MemoryPresenceStore({ sweepIntervalMs: 0 });
  const publisher = new ChannelSequencer({ history, broker, sweepIntervalMs: 0 });
  const controlBus = new MemoryControlBus();
  let natsUp = true;
  const role = await startApiRole(testConfig({ grpc_api: { enabled: false } }), {
    publisher,
    history,
    presence,
    controlBus,
    healthChecks: [() => (natsUp ? { ok: true } : { ok: false, reason: 'nats down' })],
  });
  const base = `http://127.0.0.1:${role.httpPort}`;
  try {
    const live = await fetch(`${base}/health/live`);
    assert.equal(live.status, 200);
    assert.match(live.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await live.json(), {});
    assert.equal((await fetch(`${base}/health`)).status, 200);

    natsUp = false;
    const notReady = await fetch(`${base}/health`);
    assert.equal(notReady.status, 503);
    await notReady.arrayBuffer();
    const stillLive = await fetch(`${base}/health/live`);
    assert.equal(stillLive.status, 200, 'liveness must not depend on NATS');
    await stillLive.arrayBuffer();

    // Only GET: a POST to the liveness path is not a probe.
    const post = await fetch(`${base}/health/live`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 404);
    await post.arrayBuffer();
  } finally {
    await role.close();
    publisher.close();
    await Promise.all([broker.close(), history.close(), presence.close(), controlBus.close()]);
  }
  // A closed role answers nothing: a liveness probe then fails and the kubelet acts.
  await assert.rejects(fetch(`${base}/health/live`));
});
