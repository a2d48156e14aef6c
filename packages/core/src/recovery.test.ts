import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LiveVerdict,
  cacheRecovery,
  isStreamRecovered,
  livePosition,
  mergePublications,
  recoveryRead,
  subscribePosition,
} from './recovery.ts';
import type { Publication } from './types.ts';
import type { ReadResult } from './history-store.ts';

const p = (offset: number): Publication => ({ offset, data: new Uint8Array([offset & 0xff]) });
const ps = (...offsets: number[]) => offsets.map(p);
const read = (top: number, epoch: string, ...offsets: number[]): ReadResult => ({ publications: ps(...offsets), position: { offset: top, epoch } });
const offs = (pubs: Publication[]) => pubs.map((x) => x.offset);

describe('isStreamRecovered', () => {
  const rows: Array<[string, { offset: number; epoch: string }, ReadResult, number, boolean]> = [
    ['nothing missed', { offset: 5, epoch: 'E' }, read(5, 'E'), -1, true],
    ['nothing returned but the top moved', { offset: 5, epoch: 'E' }, read(7, 'E'), -1, false],
    ['the whole gap returned', { offset: 5, epoch: 'E' }, read(8, 'E', 6, 7, 8), -1, true],
    ['history trimmed: starts later', { offset: 5, epoch: 'E' }, read(8, 'E', 7, 8), -1, false],
    ['limited read: ends before the top', { offset: 5, epoch: 'E' }, read(9, 'E', 6, 7), 2, false],
    ['read returned more than the limit', { offset: 5, epoch: 'E' }, read(8, 'E', 6, 7, 8), 2, false],
    ['exactly the limit', { offset: 5, epoch: 'E' }, read(7, 'E', 6, 7), 2, true],
    ['epoch changed', { offset: 5, epoch: 'OLD' }, read(5, 'NEW'), -1, false],
    ['epoch changed, same offsets', { offset: 0, epoch: 'OLD' }, read(2, 'NEW', 1, 2), -1, false],
    ['empty requested epoch matches', { offset: 1, epoch: '' }, read(2, 'E', 2), -1, true],
    ['fresh client at 0 of an empty stream', { offset: 0, epoch: 'E' }, read(0, 'E'), -1, true],
  ];
  for (const [name, requested, r, limit, want] of rows) {
    test(name, () => assert.equal(isStreamRecovered(requested, r, limit), want));
  }
});

test('recoveryRead builds a forward read since the position, -1 when unlimited', () => {
  assert.deepEqual(recoveryRead('c', { offset: 3, epoch: 'E' }, 300, 1000), {
    channel: 'c', since: { offset: 3, epoch: 'E' }, limit: 300, reverse: false, metaTtlMs: 1000,
  });
  assert.equal(recoveryRead('c', { offset: 3, epoch: 'E' }, 0, 1000).limit, -1);
});

describe('mergePublications', () => {
  const rows: Array<[string, number[], number[], number[], number, boolean]> = [
    ['no live: history as is', [3, 4, 5], [], [3, 4, 5], 5, true],
    ['nothing at all', [], [], [], 0, true],
    ['live continues history', [3, 4], [5, 6], [3, 4, 5, 6], 6, true],
    ['live overlaps history', [3, 4, 5], [4, 5, 6], [3, 4, 5, 6], 6, true],
    ['live entirely older', [3, 4, 5], [2, 3], [2, 3, 4, 5], 5, true],
    ['duplicates inside live', [], [7, 7, 8], [7, 8], 8, true],
    ['hole between history and live', [3, 4], [6, 7], [3, 4, 6, 7], 7, false],
    ['hole inside live', [], [7, 9], [7, 9], 9, false],
    ['live only', [], [10, 11], [10, 11], 11, true],
  ];
  for (const [name, history, live, want, maxSeen, contiguous] of rows) {
    test(name, () => {
      const r = mergePublications(ps(...history), ps(...live));
      assert.deepEqual(offs(r.publications), want);
      assert.equal(r.maxSeenOffset, maxSeen);
      assert.equal(r.contiguous, contiguous);
    });
  }
  test('keeps the history object for equal offsets and never mutates its inputs', () => {
    const h = ps(1, 2);
    const l = ps(2, 3);
    const r = mergePublications(h, l);
    assert.equal(r.publications[1], h[1]);
    assert.deepEqual(offs(h), [1, 2]);
    assert.deepEqual(offs(l), [2, 3]);
  });
});

describe('subscribePosition', () => {
  test('recovered: publications inside the reply, reply offset = requested, tracking at the top', () => {
    const r = subscribePosition({ requested: { offset: 5, epoch: 'E' }, read: read(7, 'E', 6, 7), live: [], limit: 300 });
    assert.ok(r);
    assert.equal(r.recovered, true);
    assert.deepEqual(offs(r.publications), [6, 7]);
    assert.equal(r.offset, 5);
    assert.equal(r.epoch, 'E');
    assert.equal(r.streamOffset, 7);
  });

  test('recovered with live publications that raced the read: merged, no duplicates', () => {
    const r = subscribePosition({ requested: { offset: 5, epoch: 'E' }, read: read(7, 'E', 6, 7), live: ps(7, 8, 9), limit: 300 });
    assert.ok(r);
    assert.deepEqual(offs(r.publications), [6, 7, 8, 9]);
    assert.equal(r.offset, 5);
    assert.equal(r.streamOffset, 9);
  });

  test('recovered with nothing missed but a live one arriving', () => {
    const r = subscribePosition({ requested: { offset: 5, epoch: 'E' }, read: read(5, 'E'), live: ps(6), limit: 300 });
    assert.ok(r);
    assert.equal(r.recovered, true);
    assert.deepEqual(offs(r.publications), [6]);
    assert.equal(r.streamOffset, 6);
  });

  test('a late live duplicate at or below the client offset is not resent', () => {
    const r = subscribePosition({ requested: { offset: 5, epoch: 'E' }, read: read(6, 'E', 6), live: ps(5, 6), limit: 300 });
    assert.ok(r);
    assert.deepEqual(offs(r.publications), [6]);
  });

  test('a live publication that skips one after a complete read is insufficient state', () => {
    assert.equal(subscribePosition({ requested: { offset: 5, epoch: 'E' }, read: read(5, 'E'), live: ps(7), limit: 300 }), null);
    assert.equal(subscribePosition({ requested: { offset: 5, epoch: 'E' }, read: read(7, 'E', 6, 7), live: ps(9), limit: 300 }), null);
  });

  test('not recovered: no publications, reply offset and tracking at the top', () => {
    const r = subscribePosition({ requested: { offset: 2, epoch: 'E' }, read: read(9, 'E', 5, 6, 7, 8, 9), live: [], limit: 300 });
    assert.ok(r);
    assert.equal(r.recovered, false);
    assert.deepEqual(r.publications, []);
    assert.equal(r.offset, 9);
    assert.equal(r.streamOffset, 9);
  });

  test('not recovered after an epoch change reports the new epoch and top', () => {
    const r = subscribePosition({ requested: { offset: 20, epoch: 'OLD' }, read: read(3, 'NEW'), live: [], limit: 300 });
    assert.deepEqual(r, { recovered: false, publications: [], offset: 3, epoch: 'NEW', streamOffset: 3 });
  });

  test('positioning only: live publications past the top move the tracked offset', () => {
    const r = subscribePosition({ requested: null, read: read(4, 'E'), live: ps(4, 5, 6), limit: 300 });
    assert.deepEqual(r, { recovered: false, publications: [], offset: 6, epoch: 'E', streamOffset: 6 });
  });

  test('positioning only: a hole among the live publications is insufficient state', () => {
    assert.equal(subscribePosition({ requested: null, read: read(4, 'E'), live: ps(5, 7), limit: 300 }), null);
  });

  test('a recovery cut by the limit is not recovered', () => {
    const r = subscribePosition({ requested: { offset: 0, epoch: 'E' }, read: read(500, 'E', 1, 2, 3), live: [], limit: 3 });
    assert.ok(r);
    assert.equal(r.recovered, false);
    assert.equal(r.offset, 500);
  });
});

describe('cacheRecovery', () => {
  const top = { offset: 9, epoch: 'E' };
  test('client behind: the latest publication is delivered', () => {
    assert.deepEqual(offs(cacheRecovery({ offset: 3, epoch: 'E' }, p(9), top).publications), [9]);
    assert.equal(cacheRecovery({ offset: 3, epoch: 'E' }, p(9), top).recovered, true);
  });
  test('client already at the top: recovered, nothing to send', () => {
    assert.deepEqual(cacheRecovery({ offset: 9, epoch: 'E' }, p(9), top), { recovered: true, publications: [] });
  });
  test('latest publication expired: recovered only if the client is at the top', () => {
    assert.deepEqual(cacheRecovery({ offset: 9, epoch: 'E' }, null, top), { recovered: true, publications: [] });
    assert.deepEqual(cacheRecovery({ offset: 3, epoch: 'E' }, null, top), { recovered: false, publications: [] });
  });
  test('another epoch: the latest publication is delivered', () => {
    assert.equal(cacheRecovery({ offset: 9, epoch: 'OLD' }, p(9), top).publications.length, 1);
  });
});

describe('livePosition', () => {
  const rows: Array<[string, number, string, number, string, LiveVerdict]> = [
    ['next', 5, 'E', 6, 'E', LiveVerdict.next],
    ['stale duplicate', 5, 'E', 5, 'E', LiveVerdict.stale],
    ['older', 5, 'E', 2, 'E', LiveVerdict.stale],
    ['gap', 5, 'E', 7, 'E', LiveVerdict.insufficient],
    ['epoch change', 5, 'E', 6, 'F', LiveVerdict.insufficient],
    ['epoch change to offset 1', 5, 'E', 1, 'F', LiveVerdict.insufficient],
    ['without history', 5, 'E', 0, '', LiveVerdict.unpositioned],
  ];
  for (const [name, tracked, trackedEpoch, off, epoch, want] of rows) {
    test(name, () => assert.equal(livePosition(tracked, trackedEpoch, off, epoch), want));
  }
});
