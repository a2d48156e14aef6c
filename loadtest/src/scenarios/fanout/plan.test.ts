import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelSlot, publisherChannels, subscriberChannels, validateShape, workerRange, type FanoutShape } from './plan.ts';

const shapes: FanoutShape[] = [
  { subscribers: 1000, channels: 1, subChannels: 1, publishers: 4 },
  { subscribers: 10, channels: 4, subChannels: 1, publishers: 2 },
  { subscribers: 7, channels: 5, subChannels: 3, publishers: 9 },
  { subscribers: 3, channels: 9, subChannels: 3, publishers: 9 },
];

test('every channel has a subscriber and a publisher; slots invert the channel lists', () => {
  for (const s of shapes) {
    assert.equal(validateShape(s), null);
    const subscribed = new Set<number>();
    for (let sub = 0; sub < s.subscribers; sub++) {
      const chans = subscriberChannels(s, sub);
      assert.equal(new Set(chans).size, s.subChannels, 'distinct channels');
      chans.forEach((c, i) => {
        subscribed.add(c);
        assert.equal(channelSlot(s, sub, c), i);
      });
      for (let c = 0; c < s.channels; c++) if (!chans.includes(c)) assert.equal(channelSlot(s, sub, c), -1);
    }
    assert.equal(subscribed.size, s.channels);
    const fed = new Set<number>();
    for (let p = 0; p < s.publishers; p++) for (const c of publisherChannels(s, p)) fed.add(c);
    assert.equal(fed.size, s.channels);
  }
});

test('shapes that leave channels uncovered are refused', () => {
  assert.match(validateShape({ subscribers: 2, channels: 5, subChannels: 2, publishers: 1 }) ?? '', /without a subscriber/);
  assert.match(validateShape({ subscribers: 5, channels: 2, subChannels: 3, publishers: 1 }) ?? '', /distinct/);
  assert.notEqual(validateShape({ subscribers: 0, channels: 1, subChannels: 1, publishers: 1 }), null);
});

test('worker ranges partition the subscribers', () => {
  for (const [total, workers] of [[1000, 1], [1000, 3], [5, 4], [3, 3]] as const) {
    let next = 0;
    for (let w = 0; w < workers; w++) {
      const r = workerRange(total, workers, w);
      assert.equal(r.from, next);
      assert.ok(r.to - r.from >= Math.floor(total / workers));
      next = r.to;
    }
    assert.equal(next, total);
  }
});
