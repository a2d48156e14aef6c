// startApiRole: the cluster api role's own HTTP server (rotor.apiPort) with /metrics and /health,
// plus gRPC, over injected adapters (memory ones here).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChannelSequencer, MemoryBroker, MemoryControlBus, MemoryHistoryStore, MemoryPresenceStore } from '@rotor/core';
import { Registry } from 'prom-client';
import { startApiRole } from '../src/index.ts';
import { GRPC_KEY, GrpcTestClient, KEY, RecordingControlHandler, post, testConfig } from './harness.ts';

test('the api role serves HTTP, gRPC, /metrics and /health, and closes its ports', async () => {
  const broker = new MemoryBroker();
  const history = new MemoryHistoryStore({ sweepIntervalMs: 0 });
  const presence = new MemoryPresenceStore({ sweepIntervalMs: 0 });
  const publisher = new ChannelSequencer({ history, broker, sweepIntervalMs: 0 });
  const controlBus = new MemoryControlBus();
  controlBus.setHandler(new RecordingControlHandler());
  let natsUp = true;
  const role = await startApiRole(testConfig(), {
    publisher,
    history,
    presence,
    controlBus,
    registry: new Registry(),
    healthChecks: [() => (natsUp ? { ok: true } : { ok: false, reason: 'nats down' })],
  });
  let client: GrpcTestClient | null = null;
  try {
    const base = `http://127.0.0.1:${role.httpPort}`;
    const r = await post(`${base}/api/publish`, '{"channel":"role","data":{"x":1}}', { 'X-API-Key': KEY });
    assert.equal(r.status, 200);
    assert.equal((r.json() as { result: { offset: number } }).result.offset, 1);

    assert.notEqual(role.grpcPort, null);
    client = new GrpcTestClient(role.grpcPort!);
    const g = await client.call<{ result?: { offset?: number } }>('Publish', { channel: 'role', data: new Uint8Array([1]) }, { authorization: `apikey ${GRPC_KEY}` });
    assert.equal(g.result?.offset, 2);

    const metrics = await fetch(`${base}/metrics`);
    const body = await metrics.text();
    assert.equal(metrics.status, 200);
    assert.match(body, /rotor_api_requests_total\{protocol="http",method="publish",result="ok"\} 1/);
    assert.match(body, /rotor_api_requests_total\{protocol="grpc",method="publish",result="ok"\} 1/);

    assert.equal((await fetch(`${base}/health`)).status, 200);
    natsUp = false;
    const down = await fetch(`${base}/health`);
    assert.equal(down.status, 503);
    assert.deepEqual(await down.json(), { error: 'nats down' });
    assert.equal((await fetch(`${base}/nowhere`)).status, 404);
  } finally {
    client?.close();
    await role.close();
    publisher.close();
    await Promise.all([broker.close(), history.close(), presence.close(), controlBus.close()]);
  }
  await assert.rejects(fetch(`http://127.0.0.1:${role.httpPort}/health`));
});

test('without grpc_api.enabled the role serves HTTP only', async () => {
  const history = new MemoryHistoryStore({ sweepIntervalMs: 0 });
  const broker = new MemoryBroker();
  const publisher = new ChannelSequencer({ history, broker, sweepIntervalMs: 0 });
  const presence = new MemoryPresenceStore({ sweepIntervalMs: 0 });
  const controlBus = new MemoryControlBus();
  const role = await startApiRole(testConfig({ grpc_api: { enabled: false } }), { publisher, history, presence, controlBus });
  try {
    assert.equal(role.grpcPort, null);
    assert.equal((await post(`http://127.0.0.1:${role.httpPort}/api/info`, '{}', { 'X-API-Key': KEY })).status, 200);
  } finally {
    await role.close();
    publisher.close();
    await Promise.all([broker.close(), history.close(), presence.close(), controlBus.close()]);
  }
});
