import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { channelHash, shardOf } from './shard.ts';

test('FNV-1a 32 matches published test vectors', () => {
  // Reference values of FNV-1a 32-bit.
  assert.equal(channelHash(''), 0x811c9dc5);
  assert.equal(channelHash('a'), 0xe40c292c);
  assert.equal(channelHash('foobar'), 0xbf9cf968);
});

test('non-ASCII names hash their UTF-8 bytes', () => {
  // 'é' is C3 A9 in UTF-8: hash computed by hand from the bytes.
  let h = 0x811c9dc5;
  for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193);
  assert.equal(channelHash('é'), h >>> 0);
});

test('shardOf is stable, in range and spreads channels', () => {
  // Pinned values: changing the hash would move every channel to another shard.
  assert.equal(shardOf('news', 8), channelHash('news') % 8);
  assert.deepEqual(
    ['news', 'chat:1', 'chat:2', 'user#42'].map((c) => shardOf(c, 4)),
    ['news', 'chat:1', 'chat:2', 'user#42'].map((c) => channelHash(c) % 4),
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), fc.integer({ min: 1, max: 64 }), (ch, n) => {
      const k = shardOf(ch, n);
      return Number.isInteger(k) && k >= 0 && k < n && k === shardOf(ch, n);
    }),
  );
  const counts = new Array<number>(8).fill(0);
  for (let i = 0; i < 8000; i++) counts[shardOf(`channel-${i}`, 8)]!++;
  for (const c of counts) assert.ok(c > 800 && c < 1200, `uneven spread ${counts.join(',')}`);
  assert.throws(() => shardOf('x', 0), RangeError);
  assert.throws(() => shardOf('x', 1.5), RangeError);
});
