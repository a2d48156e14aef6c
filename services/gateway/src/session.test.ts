import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeReason } from './session.ts';

const decode = (b: Uint8Array) => new TextDecoder('utf-8', { fatal: true }).decode(b);

test('close reasons are cut to 123 bytes without splitting a character', () => {
  assert.equal(decode(closeReason('short')), 'short');
  assert.equal(closeReason('x'.repeat(500)).length, 123);
  const cut = closeReason('é'.repeat(100));
  assert.ok(cut.length <= 123);
  assert.equal(decode(cut), 'é'.repeat(61));
  const emoji = closeReason('😀'.repeat(40));
  assert.equal(decode(emoji), '😀'.repeat(30));
});
