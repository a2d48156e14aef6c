import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControlCommand, ControlHandler, NodeInfo } from '@rotor/core';
import { startNatsServer } from '@rotor/testkit';
import { closeNats, connectNats } from '../src/connection.ts';
import { NatsControlBus } from '../src/nats-control-bus.ts';
import { Subjects } from '../src/subjects.ts';
import { waitFor } from './wait.ts';

function handler(name: string, channels: Record<string, number>, got: ControlCommand[]): ControlHandler {
  const info: NodeInfo = { uid: name, name, version: '0.1.0', numClients: 2, numUsers: 1, numSubs: 3, numChannels: Object.keys(channels).length, uptimeSeconds: 1 };
  return { onCommand: (cmd) => got.push(cmd), nodeInfo: () => info, channels: () => new Map(Object.entries(channels)) };
}

test('NatsControlBus: commands reach every node, heartbeats list live nodes, survey sums channels', async () => {
  await using server = await startNatsServer();
  const conns = await Promise.all([1, 2, 3].map((i) => connectNats({ url: server.url, name: `n${i}` })));
  const opts = { heartbeatIntervalMs: 50, heartbeatExpiryMs: 300, surveyTimeoutMs: 2000, onError: () => {} };
  const [g1, g2, api] = conns.map((nc, i) => new NatsControlBus(nc, { ...opts, uid: `u${i + 1}` })) as [NatsControlBus, NatsControlBus, NatsControlBus];
  try {
    await Promise.all([g1.ready(), g2.ready(), api.ready()]);
    const got1: ControlCommand[] = [];
    const got2: ControlCommand[] = [];
    g1.setHandler(handler('g1', { a: 2, 'b.c': 1 }, got1));
    g2.setHandler(handler('g2', { a: 3 }, got2));
    await Promise.all([g1.ready(), g2.ready()]);

    await waitFor(async () => (await api.nodes()).length === 2, 'api sees both gateways');
    assert.deepEqual((await api.nodes()).map((n) => n.name).sort(), ['g1', 'g2']);
    await waitFor(async () => (await g1.nodes()).length === 2, 'g1 sees itself and g2');

    const cmd: ControlCommand = { kind: 'disconnect', user: 'bob', disconnect: { code: 3503, reason: 'force disconnect' } };
    api.send(cmd);
    g1.send({ kind: 'unsubscribe', user: 'bob', channel: 'a' });
    await waitFor(() => got1.length === 2 && got2.length === 2, 'both commands on both gateways');
    // Two senders: no order between them.
    assert.deepEqual(got1.find((c) => c.kind === 'disconnect'), cmd);
    assert.deepEqual(got2.map((c) => c.kind).sort(), ['disconnect', 'unsubscribe']);

    assert.deepEqual(await api.channels(), new Map([['a', 5], ['b.c', 1]]));
    assert.deepEqual(await g1.channels(), new Map([['a', 5], ['b.c', 1]]));

    // Garbage on the control subject is reported, never thrown.
    conns[2]!.publish(new Subjects().control, new Uint8Array([0xff]));
    api.send({ kind: 'unsubscribe', user: 'x', channel: 'z' });
    await waitFor(() => got1.length === 3, 'commands still flow');

    // A node that leaves cleanly disappears at once; one that dies ages out after the expiry.
    await g2.close();
    await waitFor(async () => (await api.nodes()).length === 1, 'g2 left');
    await closeNats(conns[0]!); // g1 dies without a goodbye
    await waitFor(async () => (await api.nodes()).length === 0, 'g1 expired');
    assert.deepEqual(await api.channels(), new Map());
  } finally {
    await Promise.all([g1.close(), g2.close(), api.close()]);
    await Promise.all(conns.map((c) => closeNats(c)));
  }
});
