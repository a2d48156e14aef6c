import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBroker } from '@rotor/core';
import type { Publication, StreamPosition } from '@rotor/core';
import { Format, Hub, JoinOutcome, MemberState } from './hub.ts';
import type { HubMember, HubOptions } from './hub.ts';
import { GatewayMetrics } from './metrics.ts';
import { FakeEncoder, FakeSink, Member } from './testing/hub-fakes.ts';

const enc = new TextEncoder();

type SetupOptions = Pick<HubOptions, 'maxFrameBytes' | 'maxHeld' | 'maxHeldBytes' | 'history' | 'positionCheckMs' | 'repair' | 'slowCheckBytes'> & { clock?: { now(): number } };

function setup(opts: SetupOptions = {}) {
  const broker = new MemoryBroker();
  const sink = new FakeSink();
  const encoder = new FakeEncoder();
  const events = { insufficient: [] as HubMember[], inappropriate: [] as HubMember[] };
  const hub = new Hub({
    broker,
    sink,
    encoder,
    events: {
      insufficientState: (m) => events.insufficient.push(m),
      inappropriateProtocol: (m) => events.inappropriate.push(m),
    },
    metrics: new GatewayMetrics(),
    flushMode: 'microtask',
    ...opts,
    clock: opts.clock ?? { now: () => 0 },
  });
  broker.setHandler(hub);
  const pub = (offset: number, data = 'x'): Publication => ({ offset, data: enc.encode(data) });
  /** Delivers like the broker would, then lets the per-turn flush run. */
  const deliver = async (channel: string, pubs: Publication[], epoch = 'E'): Promise<void> => {
    for (const p of pubs) hub.onPublication(channel, p, epoch);
    await Promise.resolve();
  };
  return { broker, sink, encoder, events, hub, pub, deliver };
}

async function attach(hub: Hub, channel: string, m: Member, position: StreamPosition | null): Promise<JoinOutcome> {
  const ch = hub.join(channel, m);
  await ch.ready;
  return hub.completeJoin(ch, m, position);
}

test('the broker subscription is taken by the first local subscriber and dropped after the last', async () => {
  const { broker, hub, sink } = setup();
  const a = new Member(sink, Format.json, false);
  const b = new Member(sink, Format.protobuf, false);
  await attach(hub, 'news', a, null);
  await attach(hub, 'news', b, null);
  assert.deepEqual([...broker.channels], ['news']);
  const ch = hub.channels.get('news')!;
  hub.leave(ch, a, true);
  assert.deepEqual([...broker.channels], ['news']);
  hub.leave(ch, b, true);
  await hub.idle();
  assert.deepEqual([...broker.channels], []);
  assert.equal(hub.channels.size, 0);
});

test('publications of one turn become one frame per format in use, encoded once per format', async () => {
  const { hub, sink, encoder, pub, deliver } = setup();
  const members = [new Member(sink, Format.json, false), new Member(sink, Format.json, false), new Member(sink, Format.protobuf, false)];
  for (const m of members) await attach(hub, 'c', m, null);
  await deliver('c', [pub(0, 'a'), pub(0, 'b'), pub(0, 'c')]);
  assert.equal(sink.frames, 2, 'one frame per format');
  assert.deepEqual(encoder.calls, [3, 3], 'each publication encoded once per format');
  for (const m of members) assert.deepEqual(m.messages, ['P0:a', 'P0:b', 'P0:c']);
});

test('a format nobody uses is never encoded', async () => {
  const { hub, sink, encoder, pub, deliver } = setup();
  await attach(hub, 'c', new Member(sink, Format.protobuf, false), null);
  await deliver('c', [pub(0)]);
  assert.deepEqual(encoder.calls, [0, 1]);
});

test('a pending frame is flushed early once it reaches the size limit', async () => {
  const { hub, sink, pub, deliver } = setup({ maxFrameBytes: 10 });
  const m = new Member(sink, Format.json, false);
  await attach(hub, 'c', m, null);
  await deliver('c', [pub(0, 'aaaa'), pub(0, 'bbbb'), pub(0, 'cccc')]);
  assert.equal(m.frames.length, 2);
  assert.deepEqual(m.messages, ['P0:aaaa', 'P0:bbbb', 'P0:cccc']);
});

test('a joiner gets the live publications that raced with its history read once, after its reply position', async () => {
  const { hub, sink, pub, deliver } = setup();
  const old = new Member(sink, Format.json, true);
  await attach(hub, 'c', old, { offset: 0, epoch: 'E' });
  await deliver('c', [pub(1), pub(2)]);
  const joiner = new Member(sink, Format.json, true);
  const ch = hub.join('c', joiner);
  await ch.ready;
  // While the joiner's history read is in flight, 3 and 4 arrive; the read saw the top at 3.
  hub.onPublication('c', pub(3), 'E');
  hub.onPublication('c', pub(4), 'E');
  assert.equal(hub.completeJoin(ch, joiner, { offset: 3, epoch: 'E' }), JoinOutcome.attached);
  await deliver('c', [pub(5)]);
  assert.deepEqual(joiner.messages, ['P4:x', 'P5:x']);
  assert.deepEqual(old.messages, ['P1:x', 'P2:x', 'P3:x', 'P4:x', 'P5:x']);
});

test('a joiner whose read is ahead of the live stream waits until the stream catches up', async () => {
  const { hub, sink, pub, deliver } = setup();
  const old = new Member(sink, Format.json, true);
  await attach(hub, 'c', old, { offset: 0, epoch: 'E' });
  await deliver('c', [pub(1)]);
  const joiner = new Member(sink, Format.json, true);
  const ch = hub.join('c', joiner);
  await ch.ready;
  // The read saw 3 already; 2 and 3 are still in flight to this node.
  assert.equal(hub.completeJoin(ch, joiner, { offset: 3, epoch: 'E' }), JoinOutcome.waiting);
  await deliver('c', [pub(2)]);
  assert.equal(joiner.hubState, MemberState.waiting);
  await deliver('c', [pub(3), pub(4)]);
  assert.equal(joiner.hubState, MemberState.attached);
  await deliver('c', [pub(5)]);
  assert.deepEqual(joiner.messages, ['P4:x', 'P5:x']);
  assert.deepEqual(old.messages, ['P1:x', 'P2:x', 'P3:x', 'P4:x', 'P5:x']);
});

test('a gap in the live stream ends positioned subscriptions after delivering what came before it', async () => {
  const { hub, sink, pub, deliver, events } = setup();
  const positioned = new Member(sink, Format.json, true);
  const plain = new Member(sink, Format.json, false);
  await attach(hub, 'c', positioned, { offset: 0, epoch: 'E' });
  await attach(hub, 'c', plain, null);
  hub.onPublication('c', pub(1), 'E');
  hub.onPublication('c', pub(3), 'E');
  await Promise.resolve();
  assert.deepEqual(events.insufficient, [positioned]);
  assert.deepEqual(positioned.messages, ['P1:x']);
  assert.deepEqual(plain.messages, ['P1:x', 'P3:x']);
  assert.equal(positioned.hubState, MemberState.none);
  await deliver('c', [pub(4)]);
  assert.deepEqual(positioned.messages, ['P1:x']);
});

test('a new epoch on the live stream ends positioned subscriptions', async () => {
  const { hub, sink, pub, deliver, events } = setup();
  const m = new Member(sink, Format.protobuf, true);
  await attach(hub, 'c', m, { offset: 5, epoch: 'E' });
  await deliver('c', [pub(1)], 'F');
  assert.deepEqual(events.insufficient, [m]);
  assert.deepEqual(m.messages, []);
});

test('stale duplicates are dropped for everyone', async () => {
  const { hub, sink, pub, deliver } = setup();
  const m = new Member(sink, Format.json, false);
  await attach(hub, 'c', m, null);
  await deliver('c', [pub(1), pub(2), pub(2), pub(1), pub(3)]);
  assert.deepEqual(m.messages, ['P1:x', 'P2:x', 'P3:x']);
});

test('a joiner whose held publications have a gap is in insufficient state', async () => {
  const { hub, sink, pub } = setup();
  const plain = new Member(sink, Format.json, false);
  await attach(hub, 'c', plain, null);
  hub.onPublication('c', pub(1), 'E');
  const joiner = new Member(sink, Format.json, true);
  const ch = hub.join('c', joiner);
  await ch.ready;
  hub.onPublication('c', pub(2), 'E');
  hub.onPublication('c', pub(4), 'E'); // 3 was lost
  assert.equal(hub.completeJoin(ch, joiner, { offset: 1, epoch: 'E' }), JoinOutcome.insufficient);
  assert.equal(joiner.hubState, MemberState.none);
  assert.deepEqual(joiner.messages, []);
});

test('a joiner that read another epoch than the positioned subscribers follow is in insufficient state', async () => {
  const { hub, sink, pub } = setup();
  const positioned = new Member(sink, Format.json, true);
  await attach(hub, 'c', positioned, { offset: 6, epoch: 'NEW' });
  hub.onPublication('c', pub(7), 'NEW');
  const joiner = new Member(sink, Format.json, true);
  const ch = hub.join('c', joiner);
  await ch.ready;
  assert.equal(hub.completeJoin(ch, joiner, { offset: 9, epoch: 'OLD' }), JoinOutcome.insufficient);
  assert.equal(positioned.hubState, MemberState.attached);
});

test('with no positioned subscriber, a joiner that read a new epoch sets the position (the old one is not waited for)', async () => {
  const { hub, sink, pub, deliver, events } = setup();
  const plain = new Member(sink, Format.json, false);
  await attach(hub, 'c', plain, null);
  await deliver('c', [pub(7)], 'OLD');
  const joiner = new Member(sink, Format.json, true);
  assert.equal(await attach(hub, 'c', joiner, { offset: 2, epoch: 'NEW' }), JoinOutcome.attached);
  await deliver('c', [pub(3)], 'NEW');
  assert.deepEqual(joiner.messages, ['P3:x']);
  assert.deepEqual(plain.messages, ['P7:x', 'P3:x']);
  assert.deepEqual(events.insufficient, []);
});

test('held publications beyond the limit make joiners insufficient instead of growing', async () => {
  const { hub, sink, pub } = setup({ maxHeld: 2 });
  const joiner = new Member(sink, Format.json, true);
  const ch = hub.join('c', joiner);
  await ch.ready;
  for (let i = 1; i <= 5; i++) hub.onPublication('c', pub(i), 'E');
  assert.ok((ch.held?.length ?? 0) <= 2);
  assert.equal(hub.completeJoin(ch, joiner, { offset: 0, epoch: 'E' }), JoinOutcome.insufficient);
});

test('held payload bytes are bounded too', async () => {
  const { hub, sink, pub } = setup({ maxHeldBytes: 10 });
  const joiner = new Member(sink, Format.json, true);
  const ch = hub.join('c', joiner);
  await ch.ready;
  for (let i = 1; i <= 5; i++) hub.onPublication('c', pub(i, 'abcdef'), 'E');
  assert.ok(ch.heldBytes <= 12);
  assert.equal(hub.completeJoin(ch, joiner, { offset: 0, epoch: 'E' }), JoinOutcome.insufficient);
});

test('join and leave pushes reach only members that asked for them', async () => {
  const { hub, sink } = setup();
  const wants = new Member(sink, Format.json, false, true);
  const not = new Member(sink, Format.json, false, false);
  await attach(hub, 'c', wants, null);
  await attach(hub, 'c', not, null);
  hub.onJoin('c', { user: 'u', client: 'c1' });
  hub.onLeave('c', { user: 'u', client: 'c1' });
  await Promise.resolve();
  assert.deepEqual(wants.messages, ['Jc1', 'Lc1']);
  assert.deepEqual(not.messages, []);
});

test('a payload that is not JSON disconnects JSON subscribers and still reaches protobuf ones', async () => {
  const { hub, sink, encoder, pub, deliver, events } = setup();
  const j = new Member(sink, Format.json, false);
  const p = new Member(sink, Format.protobuf, false);
  await attach(hub, 'c', j, null);
  await attach(hub, 'c', p, null);
  encoder.invalidJson = true;
  await deliver('c', [pub(0, 'bin')]);
  assert.deepEqual(events.inappropriate, [j]);
  assert.deepEqual(p.messages, ['P0:bin']);
});

test('a failed broker subscription fails the joiners and a later join retries', async () => {
  const { hub, sink, broker } = setup();
  const original = broker.subscribe.bind(broker);
  let fail = true;
  broker.subscribe = (channel: string) => (fail ? Promise.reject(new Error('down')) : original(channel));
  const m = new Member(sink, Format.json, false);
  const ch = hub.join('c', m);
  await assert.rejects(ch.ready);
  hub.leave(ch, m, true);
  fail = false;
  const m2 = new Member(sink, Format.json, false);
  assert.equal(await attach(hub, 'c', m2, null), JoinOutcome.attached);
  assert.deepEqual([...broker.channels], ['c']);
});


test('outbound buffers of attached members are checked once per slowCheckBytes of channel traffic', async () => {
  const { hub, sink, pub, deliver } = setup({ slowCheckBytes: 100 });
  const a = new Member(sink, Format.json, false);
  const b = new Member(sink, Format.protobuf, false);
  await attach(hub, 'c', a, null);
  await attach(hub, 'c', b, null);
  const joining = new Member(sink, Format.json, false);
  hub.join('c', joining);
  // Each publication is 1 frame of 'P0:' + 47 bytes = 50 bytes per format: 100 bytes per turn.
  const data = 'y'.repeat(47);
  await deliver('c', [pub(0, data)]);
  assert.deepEqual([a.slowChecks, b.slowChecks], [1, 1]);
  await deliver('c', [pub(0, data)]);
  assert.deepEqual([a.slowChecks, b.slowChecks], [2, 2]);
  assert.equal(joining.slowChecks, 0, 'members not on the topics yet are not checked');
  // Another channel's traffic does not count towards this one.
  await attach(hub, 'other', new Member(sink, Format.json, false), null);
  await deliver('other', [pub(0, data)]);
  assert.equal(a.slowChecks, 2);
});
