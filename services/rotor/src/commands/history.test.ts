import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../command.ts';
import { shardIndex } from './history.ts';

test('shardIndex: --shard, else rotor.history.shard (ROTOR_HISTORY_SHARD), else the host name ordinal', () => {
  assert.equal(shardIndex('2', 5, 'rotor-history-7'), 2);
  assert.equal(shardIndex(undefined, 5, 'rotor-history-7'), 5);
  assert.equal(shardIndex(undefined, -1, 'rotor-history-7'), 7);
  assert.throws(() => shardIndex(undefined, -1, 'laptop'), UsageError);
  assert.throws(() => shardIndex(undefined, -1, undefined), UsageError);
  assert.throws(() => shardIndex('-1', -1, undefined), UsageError);
  assert.throws(() => shardIndex('one', -1, undefined), UsageError);
});
