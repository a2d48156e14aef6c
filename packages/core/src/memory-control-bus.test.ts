import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryControlBus } from './memory-control-bus.ts';
import type { ControlCommand, ControlHandler, NodeInfo } from './control-bus.ts';
import { Collector } from './testing/index.ts';
import { Disconnects } from './codes.ts';

const nodeInfo: NodeInfo = { uid: 'n1', name: 'node', version: 'v', numClients: 2, numUsers: 1, numSubs: 3, numChannels: 1, uptimeSeconds: 5 };

function handler(commands: Collector<ControlCommand>, channels = new Map([['news', 2]])): ControlHandler {
  return { onCommand: commands.push, nodeInfo: () => nodeInfo, channels: () => channels };
}

test('send delivers to the handler asynchronously, in order', async () => {
  const bus = new MemoryControlBus();
  const commands = new Collector<ControlCommand>('commands');
  bus.setHandler(handler(commands));
  bus.send({ kind: 'disconnect', user: 'u1', disconnect: Disconnects.forceNoReconnect });
  bus.send({ kind: 'unsubscribe', user: 'u1', channel: 'news' });
  assert.equal(commands.length, 0, 'not delivered inside send()');
  const got = await commands.waitFor(2);
  assert.deepEqual(got.map((c) => c.kind), ['disconnect', 'unsubscribe']);
  await bus.close();
  assert.throws(() => bus.send({ kind: 'unsubscribe', user: 'u1', channel: 'news' }), /closed/);
});

test('nodes() and channels() report this node through its handler', async () => {
  const bus = new MemoryControlBus();
  assert.deepEqual(await bus.nodes(), []);
  assert.equal((await bus.channels()).size, 0);
  const channels = new Map([['news', 2]]);
  bus.setHandler(handler(new Collector(), channels));
  assert.deepEqual(await bus.nodes(), [nodeInfo]);
  const got = await bus.channels();
  assert.deepEqual([...got], [['news', 2]]);
  got.set('x', 1);
  assert.equal(channels.has('x'), false, 'callers get a copy');
  await bus.close();
});

test('a throwing handler is reported, not thrown into the event loop', async () => {
  const errors = new Collector<unknown>('errors');
  const bus = new MemoryControlBus({ onHandlerError: errors.push });
  bus.setHandler({ onCommand: () => { throw new Error('bad handler'); }, nodeInfo: () => nodeInfo, channels: () => new Map() });
  bus.send({ kind: 'refresh', user: 'u', expired: true });
  const [err] = await errors.waitFor(1);
  assert.match(String(err), /bad handler/);
  await bus.close();
});
