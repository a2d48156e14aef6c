import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from './duration.ts';

test('parseDuration accepts Go duration syntax', () => {
  const cases: Array<[string, number]> = [
    ['0', 0],
    ['0s', 0],
    ['300ms', 300],
    ['25s', 25_000],
    ['1m30s', 90_000],
    ['720h', 720 * 3_600_000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['1h2m3s4ms', 3_723_004],
    ['500us', 0.5],
    ['500µs', 0.5],
    ['1000000ns', 1],
    ['-2s', -2000],
    ['+2s', 2000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('parseDuration rejects what Go rejects', () => {
  for (const text of ['', '25', '1.5', 's', '5 s', '5x', '1d', '5s5', '--1s', 'abc', '1e3s']) {
    assert.equal(parseDuration(text), null, JSON.stringify(text));
  }
});

test('formatDuration round-trips', () => {
  for (const ms of [0, 500, 1000, 25_000, 90_000, 3_600_000, 720 * 3_600_000, 3_723_004]) {
    assert.equal(parseDuration(formatDuration(ms)), ms, String(ms));
  }
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(720 * 3_600_000), '720h');
});
