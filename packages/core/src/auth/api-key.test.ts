import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiKeyMatches } from './api-key.ts';

test('apiKeyMatches compares exactly, and never matches an unset key', () => {
  const cases: Array<[string, string, boolean]> = [
    ['secret', 'secret', true],
    ['secret', 'Secret', false],
    ['secret', 'secret ', false],
    ['secret', 'secre', false],
    ['secret', '', false],
    ['', '', false],
    ['', 'anything', false],
    ['ключ-🔑', 'ключ-🔑', true],
    ['a'.repeat(10_000), 'a'.repeat(10_000), true],
    ['a'.repeat(10_000), `${'a'.repeat(9_999)}b`, false],
  ];
  for (const [expected, given, want] of cases) assert.equal(apiKeyMatches(expected, given), want, `${expected.slice(0, 10)} vs ${given.slice(0, 10)}`);
});
