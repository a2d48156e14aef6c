import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNatsServer } from '@rotor/testkit';
import { closeNats, connectNats } from '../src/connection.ts';
import { NatsEmulationRelay, decodeEmulationMessage, encodeEmulationMessage } from '../src/emulation-relay.ts';
import { Subjects } from '../src/subjects.ts';

test('NatsEmulationRelay: a request reaches the named node only; unknown and invalid nodes are false', async () => {
  await using server = await startNatsServer();
  const [a, b] = await Promise.all([connectNats({ url: server.url, name: 'a' }), connectNats({ url: server.url, name: 'b' })]);
  try {
    const errors: unknown[] = [];
    const relayA = new NatsEmulationRelay(a, { onError: (e) => errors.push(e) });
    const relayB = new NatsEmulationRelay(b, { onError: (e) => errors.push(e) });
    const gotA: Array<[string, string]> = [];
    const gotB: Array<[string, string]> = [];
    const stopA = await relayA.listen('node-a', (s, d) => gotA.push([s, new TextDecoder().decode(d)]));
    await relayB.listen('node-b', (s, d) => gotB.push([s, new TextDecoder().decode(d)]));

    // The owner has handed the commands over when forward resolves.
    assert.equal(await relayB.forward('node-a', 'sess-1', new TextEncoder().encode('{"id":2}')), true);
    assert.deepEqual(gotA, [['sess-1', '{"id":2}']]);
    assert.equal(await relayA.forward('node-a', 'sess-2', new Uint8Array(0)), true, 'a node reaches itself too');
    assert.deepEqual(gotA[1], ['sess-2', '']);
    assert.deepEqual(gotB, []);

    assert.equal(await relayA.forward('node-c', 's', new Uint8Array(1)), false, 'no such node');
    assert.equal(await relayA.forward('bad.node', 's', new Uint8Array(1)), false, 'not a subject token');
    assert.equal(await relayA.forward('', 's', new Uint8Array(1)), false);
    await assert.rejects(relayA.listen('x.y', () => undefined));

    // A malformed message is reported and still answered.
    const reply = await b.request(new Subjects().emulation('node-a')!, new Uint8Array([200]), { timeout: 2000 });
    assert.equal(reply.data.length, 0);
    assert.equal(errors.length, 1);

    stopA();
    await a.flush();
    assert.equal(await relayB.forward('node-a', 's', new Uint8Array(1)), false, 'stopped listening');
  } finally {
    await closeNats(a);
    await closeNats(b);
  }
});

test('emulation message encoding round-trips and rejects truncation', () => {
  const m = encodeEmulationMessage('ßession', new Uint8Array([1, 2, 3]));
  const d = decodeEmulationMessage(m)!;
  assert.equal(d.session, 'ßession');
  assert.deepEqual([...d.data], [1, 2, 3]);
  assert.equal(decodeEmulationMessage(new Uint8Array(0)), null);
  assert.equal(decodeEmulationMessage(new Uint8Array([5, 1])), null);
  assert.throws(() => encodeEmulationMessage('x'.repeat(256), new Uint8Array(0)), RangeError);
});
