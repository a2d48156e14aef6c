// Gap repair and position checks of the hub, over a broker that loses chosen publications and a
// real MemoryHistoryStore (or a scripted history where a test needs failures or delays).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBroker, MemoryHistoryStore } from '@rotor/core';
import type { Publication, ReadResult, StreamPosition } from '@rotor/core';
import { deferred, waitFor } from '@rotor/testkit';
import { Format, Hub, JoinOutcome, MemberState } from './hub.ts';
import type { HubHistory, HubMember, HubOptions } from './hub.ts';
import { GatewayMetrics, RepairOutcome } from './metrics.ts';
import { FakeEncoder, FakeSink, Member } from './testing/hub-fakes.ts';
import { LossyBroker, dropOffsets } from './testing/lossy-broker.ts';

const enc = new TextEncoder();

interface RepairSetup {
  /** Offsets of channel "c" the broker loses on the way to the hub. */
  drop?: number[];
  historySize?: number;
  /** Replaces the store read (failures, delays, other epochs). */
  read?: (store: MemoryHistoryStore, channel: string, since: StreamPosition, limit: number) => Promise<ReadResult>;
  hub?: Partial<Pick<HubOptions, 'maxHeld' | 'maxHeldBytes' | 'positionCheckMs' | 'repair'>>;
  clock?: { now(): number };
}

function setup(opts: RepairSetup = {}) {
  const broker = new LossyBroker(new MemoryBroker(), dropOffsets('c', opts.drop ?? []));
  const store = new MemoryHistoryStore({ sweepIntervalMs: 0 });
  const sink = new FakeSink();
  const metrics = new GatewayMetrics();
  const events = { insufficient: [] as HubMember[] };
  const reads: Array<{ since: StreamPosition; limit: number }> = [];
  const history: HubHistory = {
    read: (channel, since, limit) => {
      reads.push({ since, limit });
      if (opts.read !== undefined) return opts.read(store, channel, since, limit);
      return store.read({ channel, since, limit, reverse: false, metaTtlMs: 0 });
    },
  };
  const hub = new Hub({
    broker,
    sink,
    encoder: new FakeEncoder(),
    events: { insufficientState: (m) => events.insufficient.push(m), inappropriateProtocol: () => undefined },
    metrics,
    clock: opts.clock ?? { now: () => 0 },
    flushMode: 'microtask',
    history,
    repair: { backoffMs: 1 },
    ...opts.hub,
  });
  broker.setHandler(hub);
  const retention = { size: opts.historySize ?? 100, ttlMs: 600_000, metaTtlMs: 0 };
  /** Stores the next publication of `channel` without publishing it. */
  const append = async (channel = 'c'): Promise<{ pub: Publication; epoch: string }> => {
    const r = await store.append({ channel, data: enc.encode('x'), history: retention });
    return { pub: r.publication, epoch: r.position.epoch };
  };
  /** Stores and publishes `n` publications; the broker loses the dropped ones. */
  const publish = async (n: number, channel = 'c'): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const { pub, epoch } = await append(channel);
      broker.publish(channel, pub, epoch);
    }
  };
  const attach = async (m: Member, channel = 'c', positioned = m.positioned): Promise<JoinOutcome> => {
    const ch = hub.join(channel, m);
    await ch.ready;
    const read = await store.read({ channel, limit: 0, reverse: false, metaTtlMs: 0 });
    return hub.completeJoin(ch, m, positioned ? read.position : null);
  };
  return { broker, store, sink, metrics, events, reads, hub, append, publish, attach };
}

const offsets = (n: number, from = 1): string[] => Array.from({ length: n }, (_, i) => `P${from + i}:x`);

test('a gap is repaired from history with one read per gap for the whole channel; nobody is disconnected', async () => {
  const { sink, metrics, events, reads, publish, attach } = setup({ drop: [3, 4, 7] });
  const members = [
    new Member(sink, Format.json, true),
    new Member(sink, Format.json, true),
    new Member(sink, Format.protobuf, true),
    new Member(sink, Format.json, false),
    new Member(sink, Format.protobuf, false),
  ];
  for (const m of members) assert.equal(await attach(m), JoinOutcome.attached);
  await publish(10);
  await waitFor(() => members.every((m) => m.messages.length >= 10), { what: 'every member to get 10 publications' });
  for (const m of members) assert.deepEqual(m.messages, offsets(10));
  assert.deepEqual(events.insufficient, []);
  // The gap 3–4 (seen at 5) and the gap 7 (seen at 8): two reads, whatever the number of members.
  assert.equal(reads.length, 2);
  assert.deepEqual(reads[0], { since: { offset: 2, epoch: reads[0]!.since.epoch }, limit: 2 });
  assert.equal(metrics.repairs[RepairOutcome.repaired], 2);
  assert.equal(metrics.repairedPublications, 3);
  assert.equal(metrics.insufficientState, 0);
});

test('live publications are held while the repair reads, then follow the missing ones in order and once', async () => {
  const gate = deferred();
  const { sink, events, publish, attach, hub } = setup({
    drop: [2],
    read: async (store, channel, since, limit) => {
      await gate.promise;
      return store.read({ channel, since, limit, reverse: false, metaTtlMs: 0 });
    },
  });
  const positioned = new Member(sink, Format.json, true);
  const plain = new Member(sink, Format.json, false);
  await attach(positioned);
  await attach(plain);
  await publish(5);
  await waitFor(() => hub.channels.get('c')!.repairing && plain.messages.length === 1, { what: 'the repair to start' });
  // 3, 4 and 5 arrived during the read: nothing goes out before the missing 2.
  assert.deepEqual(plain.messages, ['P1:x']);
  gate.resolve();
  await waitFor(() => plain.messages.length === 5, { what: 'the repaired stream' });
  await publish(1);
  await waitFor(() => plain.messages.length === 6, { what: 'the next live publication' });
  for (const m of [positioned, plain]) assert.deepEqual(m.messages, offsets(6));
  assert.deepEqual(events.insufficient, []);
});

test('history trimmed past the gap: positioned subscriptions end, the others get every publication received', async () => {
  const { sink, metrics, events, reads, broker, append, publish, attach } = setup({ drop: [2], historySize: 2 });
  const positioned = new Member(sink, Format.json, true);
  const plain = new Member(sink, Format.json, false);
  await attach(positioned);
  await attach(plain);
  await publish(1);
  await waitFor(() => plain.messages.length === 1);
  // 2 is lost; by the time the gap shows, the history (size 2) holds only 3 and 4.
  const stored = [await append(), await append(), await append()];
  for (const { pub, epoch } of stored) broker.publish('c', pub, epoch);
  await waitFor(() => events.insufficient.length === 1, { what: 'the fallback' });
  await waitFor(() => plain.messages.length === 3);
  assert.deepEqual(events.insufficient, [positioned]);
  assert.deepEqual(positioned.messages, ['P1:x']);
  assert.deepEqual(plain.messages, ['P1:x', 'P3:x', 'P4:x']);
  assert.equal(reads.length, 1);
  assert.equal(metrics.repairs[RepairOutcome.trimmed], 1);
  // The stream continues for the non-positioned subscriber.
  await publish(1);
  await waitFor(() => plain.messages.length === 4);
  assert.deepEqual(plain.messages.at(-1), 'P5:x');
});

test('another epoch at the repair read: positioned subscriptions end, the held publications reach the others', async () => {
  const { sink, metrics, events, publish, attach } = setup({
    drop: [2],
    read: async () => ({ publications: [], position: { offset: 1, epoch: 'other' } }),
  });
  const positioned = new Member(sink, Format.protobuf, true);
  const plain = new Member(sink, Format.json, false);
  await attach(positioned);
  await attach(plain);
  await publish(4);
  await waitFor(() => events.insufficient.length === 1, { what: 'the fallback' });
  await waitFor(() => plain.messages.length === 3);
  assert.deepEqual(plain.messages, ['P1:x', 'P3:x', 'P4:x']);
  assert.deepEqual(positioned.messages, ['P1:x']);
  assert.equal(metrics.repairs[RepairOutcome.epoch], 1);
});

test('a new epoch on the live stream after the gap ends positioned subscriptions once the old epoch is repaired', async () => {
  const { sink, events, hub, publish, attach, append } = setup({ drop: [2] });
  const positioned = new Member(sink, Format.json, true);
  const plain = new Member(sink, Format.json, false);
  await attach(positioned);
  await attach(plain);
  await publish(1);
  await waitFor(() => plain.messages.length === 1);
  const p2 = await append();
  const p3 = await append();
  // The gap shows at 3; before the read returns, a publication of a new epoch arrives.
  hub.onPublication('c', p3.pub, p3.epoch);
  hub.onPublication('c', { offset: 1, data: enc.encode('y') }, 'NEW');
  await waitFor(() => events.insufficient.length === 1, { what: 'the fallback' });
  await waitFor(() => plain.messages.length === 4);
  assert.equal(p2.pub.offset, 2);
  assert.deepEqual(positioned.messages, ['P1:x', 'P2:x', 'P3:x']);
  assert.deepEqual(plain.messages, ['P1:x', 'P2:x', 'P3:x', 'P1:y']);
});

test('a failing read is retried with backoff; after the bounded attempts positioned subscriptions end', async () => {
  let failures = 0;
  const { sink, metrics, events, reads, publish, attach } = setup({
    drop: [2],
    hub: { repair: { attempts: 3, backoffMs: 1 } },
    read: async () => {
      failures++;
      throw new Error('shard unavailable');
    },
  });
  const positioned = new Member(sink, Format.json, true);
  const plain = new Member(sink, Format.json, false);
  await attach(positioned);
  await attach(plain);
  await publish(3);
  await waitFor(() => events.insufficient.length === 1, { what: 'the fallback' });
  assert.equal(failures, 3);
  assert.equal(reads.length, 3);
  assert.equal(metrics.repairs[RepairOutcome.failed], 1);
  await waitFor(() => plain.messages.length === 2);
  assert.deepEqual(plain.messages, ['P1:x', 'P3:x']);
});

test('a read that fails once and then succeeds repairs the gap', async () => {
  let calls = 0;
  const { sink, events, reads, publish, attach } = setup({
    drop: [2],
    read: async (store, channel, since, limit) => {
      if (++calls === 1) throw new Error('timeout');
      return store.read({ channel, since, limit, reverse: false, metaTtlMs: 0 });
    },
  });
  const positioned = new Member(sink, Format.json, true);
  await attach(positioned);
  await publish(3);
  await waitFor(() => positioned.messages.length === 3, { what: 'the repaired stream' });
  assert.deepEqual(positioned.messages, offsets(3));
  assert.equal(reads.length, 2);
  assert.deepEqual(events.insufficient, []);
});

test('the repair queue is bounded: beyond it positioned subscriptions end and the rest get the queue', async () => {
  const gate = deferred();
  const { sink, metrics, events, hub, publish, attach } = setup({
    drop: [2],
    hub: { maxHeld: 3 },
    read: async (store, channel, since, limit) => {
      await gate.promise;
      return store.read({ channel, since, limit, reverse: false, metaTtlMs: 0 });
    },
  });
  const positioned = new Member(sink, Format.json, true);
  const plain = new Member(sink, Format.json, false);
  await attach(positioned);
  await attach(plain);
  await publish(8);
  await waitFor(() => events.insufficient.length === 1, { what: 'the overflow' });
  await waitFor(() => plain.messages.length === 7);
  assert.deepEqual(plain.messages, ['P1:x', 'P3:x', 'P4:x', 'P5:x', 'P6:x', 'P7:x', 'P8:x']);
  assert.equal(metrics.repairs[RepairOutcome.overflow], 1);
  assert.equal(hub.channels.get('c')!.repairing, false);
  // The abandoned read answers late: nothing is delivered twice.
  gate.resolve();
  await publish(1);
  await waitFor(() => plain.messages.length === 8);
  assert.deepEqual(plain.messages.slice(-1), ['P9:x']);
});

test('a positioned joiner whose read is past the gap waits and is released by the repair', async () => {
  const gate = deferred();
  const { sink, events, hub, store, publish, attach } = setup({
    drop: [2],
    read: async (s, channel, since, limit) => {
      await gate.promise;
      return s.read({ channel, since, limit, reverse: false, metaTtlMs: 0 });
    },
  });
  const old = new Member(sink, Format.json, true);
  await attach(old);
  await publish(4);
  await waitFor(() => hub.channels.get('c')!.repairing);
  const joiner = new Member(sink, Format.json, true);
  const ch = hub.join('c', joiner);
  await ch.ready;
  const top = await store.read({ channel: 'c', limit: 0, reverse: false, metaTtlMs: 0 });
  assert.equal(hub.completeJoin(ch, joiner, top.position), JoinOutcome.waiting);
  gate.resolve();
  await waitFor(() => joiner.hubState === MemberState.attached, { what: 'the joiner to attach' });
  await publish(1);
  await waitFor(() => joiner.messages.length === 1 && old.messages.length === 5);
  assert.deepEqual(joiner.messages, ['P5:x']);
  assert.deepEqual(old.messages, offsets(5));
  assert.deepEqual(events.insufficient, []);
});

test('without a history to repair from, a gap ends positioned subscriptions at once', async () => {
  const broker = new LossyBroker(new MemoryBroker(), dropOffsets('c', [2]));
  const sink = new FakeSink();
  const insufficient: HubMember[] = [];
  const hub = new Hub({
    broker,
    sink,
    encoder: new FakeEncoder(),
    events: { insufficientState: (m) => insufficient.push(m), inappropriateProtocol: () => undefined },
    metrics: new GatewayMetrics(),
    clock: { now: () => 0 },
    flushMode: 'microtask',
  });
  broker.setHandler(hub);
  const m = new Member(sink, Format.json, true);
  const ch = hub.join('c', m);
  await ch.ready;
  hub.completeJoin(ch, m, { offset: 0, epoch: 'E' });
  for (let i = 1; i <= 3; i++) broker.publish('c', { offset: i, data: enc.encode('x') }, 'E');
  await waitFor(() => insufficient.length === 1);
  assert.deepEqual(m.messages, ['P1:x']);
});

// ---- position checks ----------------------------------------------------------------------

test('position check: a lost last publication is repaired, without disconnecting anyone', async () => {
  let now = 0;
  const { sink, metrics, events, reads, hub, publish, attach } = setup({ drop: [3], clock: { now: () => now }, hub: { positionCheckMs: 100 } });
  const positioned = new Member(sink, Format.json, true);
  const plain = new Member(sink, Format.protobuf, false);
  await attach(positioned);
  await attach(plain);
  await publish(3);
  await waitFor(() => plain.messages.length === 2);
  // Nothing reveals the loss of 3 until the channel is checked.
  now = 1000;
  hub.checkPositions(now);
  await waitFor(() => positioned.messages.length === 3, { what: 'the lost last publication' });
  for (const m of [positioned, plain]) assert.deepEqual(m.messages, offsets(3));
  assert.equal(reads.length, 1);
  assert.equal(metrics.repairs[RepairOutcome.repaired], 1);
  assert.equal(metrics.positionChecks, 1);
  assert.deepEqual(events.insufficient, []);
  // In step now: the next check reads and finds nothing.
  now = 2000;
  hub.checkPositions(now);
  await waitFor(() => reads.length === 2 && !hub.channels.get('c')!.repairing);
  assert.equal(metrics.repairs[RepairOutcome.repaired], 1);
  assert.equal(positioned.messages.length, 3);
});

test('position check: a publication that arrives live while the check reads is not delivered twice', async () => {
  let now = 0;
  const gate = deferred();
  let gated = false;
  const { sink, events, hub, broker, append, publish, attach } = setup({
    drop: [2],
    clock: { now: () => now },
    hub: { positionCheckMs: 100 },
    read: async (store, channel, since, limit) => {
      if (gated) await gate.promise;
      return store.read({ channel, since, limit, reverse: false, metaTtlMs: 0 });
    },
  });
  const m = new Member(sink, Format.json, true);
  await attach(m);
  await publish(2);
  await waitFor(() => m.messages.length === 1);
  const third = await append();
  gated = true;
  now = 1000;
  hub.checkPositions(now);
  // 3 is stored (the read will return 2 and 3) and arrives live during the read.
  broker.publish('c', third.pub, third.epoch);
  await waitFor(() => hub.channels.get('c')!.repair!.queue.length === 1);
  gate.resolve();
  await waitFor(() => !hub.channels.get('c')!.repairing);
  await publish(1);
  await waitFor(() => m.messages.length === 4);
  assert.deepEqual(m.messages, offsets(4));
  assert.deepEqual(events.insufficient, []);
});

test('position check: another epoch at the top ends positioned subscriptions', async () => {
  let now = 0;
  const { sink, metrics, events, hub, attach } = setup({
    clock: { now: () => now },
    hub: { positionCheckMs: 100 },
    read: async () => ({ publications: [], position: { offset: 1, epoch: 'NEW' } }),
  });
  const m = new Member(sink, Format.json, true);
  const plain = new Member(sink, Format.json, false);
  const ch = hub.join('c', m);
  await ch.ready;
  hub.completeJoin(ch, m, { offset: 0, epoch: 'E' });
  await attach(plain);
  hub.onPublication('c', { offset: 1, data: enc.encode('x') }, 'E');
  await waitFor(() => plain.messages.length === 1);
  now = 1000;
  hub.checkPositions(now);
  await waitFor(() => events.insufficient.length === 1, { what: 'the lost position' });
  assert.deepEqual(events.insufficient, [m]);
  assert.equal(metrics.repairs[RepairOutcome.epoch], 1);
  assert.equal(plain.hubState, MemberState.attached);
});

test('position check: channels are spread over the period and busy channels are not read', async () => {
  let now = 10_000;
  const { sink, reads, hub, attach, publish } = setup({ clock: { now: () => now }, hub: { positionCheckMs: 1000 } });
  const n = 40;
  for (let i = 0; i < n; i++) await attach(new Member(sink, Format.json, true), `c${i}`);
  // A busy channel: c0 has a publication within the period (at 10.4 s, the ticks run to 11 s).
  now = 10_400;
  await publish(1, 'c0');
  await waitFor(() => hub.channels.get('c0')!.lastPubAt === now);
  now = 10_000;
  const perTick: number[] = [];
  for (let t = 0; t < 20; t++) {
    now += 50;
    const before = reads.length;
    hub.checkPositions(now);
    perTick.push(reads.length - before);
  }
  const total = perTick.reduce((a, b) => a + b, 0);
  assert.equal(total, n - 1, `every idle channel checked once per period: ${perTick.join(',')}`);
  assert.ok(Math.max(...perTick) < n / 2, `not all at once: ${perTick.join(',')}`);
  assert.ok(perTick.filter((x) => x > 0).length >= 4, `spread over several ticks: ${perTick.join(',')}`);
});

// ---- positions taken from a read ------------------------------------------------------------

test('publications in flight when the first positioned subscriber sets the position still reach the others', async () => {
  const { sink, metrics, events, hub, append, broker } = setup();
  const plain = new Member(sink, Format.json, false);
  const plainJoiner = new Member(sink, Format.protobuf, false);
  const ch = hub.join('c', plain);
  await ch.ready;
  hub.completeJoin(ch, plain, null);
  // 1 and 2 are stored; their delivery to this node is still in flight.
  const inFlight = [await append(), await append()];
  hub.join('c', plainJoiner);
  const positioned = new Member(sink, Format.json, true);
  hub.join('c', positioned);
  assert.equal(hub.completeJoin(ch, positioned, { offset: 2, epoch: inFlight[0]!.epoch }), JoinOutcome.attached);
  for (const { pub, epoch } of inFlight) broker.publish('c', pub, epoch);
  await waitFor(() => plain.messages.length === 2, { what: 'the late publications' });
  assert.equal(hub.completeJoin(ch, plainJoiner, null), JoinOutcome.attached);
  const third = await append();
  broker.publish('c', third.pub, third.epoch);
  await waitFor(() => plain.messages.length === 3 && positioned.messages.length === 1);
  assert.deepEqual(plain.messages, offsets(3));
  assert.deepEqual(plainJoiner.messages, offsets(3));
  assert.deepEqual(positioned.messages, ['P3:x']);
  assert.equal(metrics.latePublications, 2);
  assert.equal(metrics.stalePublications, 0);
  assert.deepEqual(events.insufficient, []);
  // A true duplicate afterwards is still dropped.
  broker.publish('c', inFlight[1]!.pub, inFlight[1]!.epoch);
  await waitFor(() => metrics.stalePublications === 1);
  assert.equal(plain.messages.length, 3);
});

test('a positioned joiner with an older read than the position another read set gets the late publications', async () => {
  const { sink, events, hub, append, broker } = setup();
  const first = new Member(sink, Format.json, true);
  const older = new Member(sink, Format.json, true);
  const ch = hub.join('c', first);
  hub.join('c', older);
  await ch.ready;
  const p1 = await append();
  const p2 = await append();
  // `older` read the top at 1, `first` at 2; `first` completes first; 2 is still in flight.
  hub.completeJoin(ch, first, { offset: 2, epoch: p1.epoch });
  broker.publish('c', p1.pub, p1.epoch);
  broker.publish('c', p2.pub, p2.epoch);
  await waitFor(() => ch.lateUntil === 0);
  assert.equal(hub.completeJoin(ch, older, { offset: 1, epoch: p1.epoch }), JoinOutcome.attached);
  const p3 = await append();
  broker.publish('c', p3.pub, p3.epoch);
  await waitFor(() => older.messages.length === 2 && first.messages.length === 1);
  assert.deepEqual(older.messages, ['P2:x', 'P3:x']);
  assert.deepEqual(first.messages, ['P3:x']);
  assert.deepEqual(events.insufficient, []);
});

test('a positioned joiner older than the position taken from a read, whose publications are still in flight, is insufficient', async () => {
  const { sink, hub, append } = setup();
  const first = new Member(sink, Format.json, true);
  const older = new Member(sink, Format.json, true);
  const ch = hub.join('c', first);
  hub.join('c', older);
  await ch.ready;
  const p1 = await append();
  await append();
  hub.completeJoin(ch, first, { offset: 2, epoch: p1.epoch });
  // Attaching `older` at 1 now would let it miss 2 silently.
  assert.equal(hub.completeJoin(ch, older, { offset: 1, epoch: p1.epoch }), JoinOutcome.insufficient);
  assert.equal(first.hubState, MemberState.attached);
});
