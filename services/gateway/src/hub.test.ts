import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBroker } from '@rotor/core';
import { waitFor } from '@rotor/testkit';
import type { ClientInfo, Publication, StreamPosition } from '@rotor/core';
import { Format, Hub, JoinOutcome, MemberState } from './hub.ts';
import type { HubEncoder, HubMember, HubOptions, TopicSink } from './hub.ts';
import { GatewayMetrics } from './metrics.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Readable fake encodings: "P<offset>:<data>", "J<client>", "L<client>"; frames join with "\n". */
class FakeEncoder implements HubEncoder {
  calls = [0, 0];
  invalidJson = false;
  prepare(channel: string): string {
    return channel;
  }
  publication(_channel: unknown, pub: Publication, format: Format): Uint8Array {
    this.calls[format]!++;
    if (format === Format.json && this.invalidJson) throw new Error('not JSON');
    return enc.encode(`P${pub.offset}:${dec.decode(pub.data)}`);
  }
  join(_c: unknown, info: ClientInfo): Uint8Array {
    return enc.encode(`J${info.client}`);
  }
  leave(_c: unknown, info: ClientInfo): Uint8Array {
    return enc.encode(`L${info.client}`);
  }
  frame(parts: readonly Uint8Array[]): Uint8Array {
    return enc.encode(parts.map((p) => dec.decode(p)).join('\n'));
  }
}

/** Models uWS topics: a frame reaches the members subscribed at publish time. */
class FakeSink implements TopicSink {
  readonly topics = new Map<string, Set<Member>>();
  frames = 0;
  publish(topic: string, frame: Uint8Array): void {
    this.frames++;
    for (const m of this.topics.get(topic) ?? []) m.frames.push(dec.decode(frame));
  }
}

class Member implements HubMember {
  hubState: MemberState = MemberState.none;
  heldFrom = 0;
  waitOffset = 0;
  readonly frames: string[] = [];
  constructor(
    private readonly sink: FakeSink,
    readonly format: Format,
    readonly positioned: boolean,
    readonly pushJoinLeave = false,
  ) {}
  subscribeTopic(topic: string): void {
    let set = this.sink.topics.get(topic);
    if (!set) this.sink.topics.set(topic, (set = new Set()));
    set.add(this);
  }
  unsubscribeTopic(topic: string): void {
    this.sink.topics.get(topic)?.delete(this);
  }
  sendFrame(frame: Uint8Array): void {
    this.frames.push(dec.decode(frame));
  }
  /** Every message received, in order. */
  get messages(): string[] {
    return this.frames.flatMap((f) => f.split('\n'));
  }
}

function setup(opts: { maxFrameBytes?: number; maxHeld?: number; maxHeldBytes?: number; positionCheck?: HubOptions['positionCheck']; clock?: { now(): number } } = {}) {
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

test('a joiner that read another epoch than the live stream is in insufficient state', async () => {
  const { hub, sink, pub } = setup();
  const plain = new Member(sink, Format.json, false);
  await attach(hub, 'c', plain, null);
  hub.onPublication('c', pub(7), 'NEW');
  const joiner = new Member(sink, Format.json, true);
  const ch = hub.join('c', joiner);
  await ch.ready;
  assert.equal(hub.completeJoin(ch, joiner, { offset: 9, epoch: 'OLD' }), JoinOutcome.insufficient);
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

test('position check: a live stream that lags the history top twice in a row is a lost position', async () => {
  let now = 0;
  let top: StreamPosition = { offset: 1, epoch: 'E' };
  let reads = 0;
  const { hub, sink, pub, deliver, events } = setup({
    clock: { now: () => now },
    positionCheck: {
      periodMs: 100,
      confirmMs: 1,
      readTop: async () => {
        reads++;
        return top;
      },
    },
  });
  const m = new Member(sink, Format.json, true);
  await attach(hub, 'c', m, { offset: 0, epoch: 'E' });
  await deliver('c', [pub(1)]);
  now = 1000;
  hub.checkPositions(now);
  await waitFor(() => reads === 1);
  assert.deepEqual(events.insufficient, [], 'in step with the top');
  // Publication 2 was stored but never delivered here.
  top = { offset: 2, epoch: 'E' };
  now = 2000;
  hub.checkPositions(now);
  await waitFor(() => events.insufficient.length === 1, { what: 'the lost position' });
  assert.equal(reads, 3, 'confirmed by a second read');
  assert.deepEqual(events.insufficient, [m]);
});

test('position check: a publication in flight during the first read is not a lost position', async () => {
  let now = 0;
  const tops: StreamPosition[] = [{ offset: 2, epoch: 'E' }];
  let reads = 0;
  const { hub, sink, pub, deliver, events } = setup({
    clock: { now: () => now },
    positionCheck: {
      periodMs: 100,
      confirmMs: 1,
      readTop: async () => {
        reads++;
        return tops[0]!;
      },
    },
  });
  const m = new Member(sink, Format.json, true);
  await attach(hub, 'c', m, { offset: 0, epoch: 'E' });
  await deliver('c', [pub(1)]);
  now = 1000;
  hub.checkPositions(now);
  await waitFor(() => reads === 1);
  await deliver('c', [pub(2)]);
  await waitFor(() => reads === 2, { what: 'the confirming read' });
  await Promise.resolve();
  assert.deepEqual(events.insufficient, []);
  assert.deepEqual(m.messages, ['P1:x', 'P2:x']);
});

test('position check: another epoch at the top is a lost position', async () => {
  let now = 0;
  const { hub, sink, pub, deliver, events } = setup({
    clock: { now: () => now },
    positionCheck: { periodMs: 100, confirmMs: 1, readTop: async () => ({ offset: 1, epoch: 'NEW' }) },
  });
  const m = new Member(sink, Format.protobuf, true);
  await attach(hub, 'c', m, { offset: 0, epoch: 'E' });
  await deliver('c', [pub(1)]);
  now = 1000;
  hub.checkPositions(now);
  await waitFor(() => events.insufficient.length === 1, { what: 'the lost position' });
});
