import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCli, parseDuration, parseRate, UsageError } from './options.ts';

test('durations', () => {
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1m'), 60_000);
  assert.equal(parseDuration('1.5'), 1500);
  for (const bad of ['', 'abc', '10h', '-1s']) assert.throws(() => parseDuration(bad), UsageError, bad);
});

test('the seed run parses to the documented shape; defaults fill the rest', () => {
  const r = parseCli(['fanout', '--subs', '1000', '--channels', '1', '--pubs', '4', '--size', '128', '--format', 'protobuf', '--window', '32,256', '--duration', '10s', '--targets', 'uws,nats'], 1);
  assert.equal(r.help, false);
  if (r.help) return;
  const c = r.config;
  assert.deepEqual(c.scenarios, ['fanout']);
  assert.deepEqual(c.targets, ['uws', 'nats']);
  assert.deepEqual(c.windows, [32, 256]);
  assert.equal(c.subscribers, 1000);
  assert.equal(c.publishers, 4);
  assert.equal(c.payloadSize, 128);
  assert.equal(c.format, 'protobuf');
  assert.equal(c.durationMs, 10_000);
  assert.equal(c.warmupMs, 2000);
  assert.equal(c.workers, 1);
  assert.equal(c.outDir, null);
});

test('all expands to every scenario; --help wins', () => {
  const r = parseCli(['all'], 1);
  assert.ok(!r.help && r.config.scenarios.length === 4);
  assert.deepEqual(parseCli(['--help'], 1), { help: true });
});

test('bad flags are usage errors', () => {
  for (const argv of [
    [],
    ['nope'],
    ['fanout', 'idle'],
    ['fanout', '--subs', '0'],
    ['fanout', '--subs', '20000'],
    ['fanout', '--size', '8'],
    ['fanout', '--format', 'xml'],
    ['fanout', '--window', '32,x'],
    ['fanout', '--channels', '2', '--sub-channels', '3'],
    ['fanout', '--bogus'],
    ['fanout', '--duration', '0s'],
  ]) {
    assert.throws(() => parseCli(argv, 1), UsageError, argv.join(' '));
  }
});

test('--rate: publications per second or a percentage of the peak', () => {
  assert.equal(parseRate(undefined), null);
  assert.deepEqual(parseRate('2000'), { perSecond: 2000 });
  assert.deepEqual(parseRate('1500/s'), { perSecond: 1500 });
  assert.deepEqual(parseRate('50%'), { peakFraction: 0.5 });
  for (const bad of ['0', '-5', 'fast', '150%', '0%', '1e9']) assert.throws(() => parseRate(bad), UsageError, bad);
  const r = parseCli(['fanout', '--rate', '50%,1000'], 1);
  assert.ok(!r.help);
  if (r.help) return;
  assert.deepEqual(r.config.rates, [{ peakFraction: 0.5 }, { perSecond: 1000 }]);
  const none = parseCli(['fanout'], 1);
  assert.ok(!none.help && none.config.rates.length === 0);
  assert.throws(() => parseCli(['fanout', '--rate', ','], 1), UsageError);
});

test('--rotor-flags replaces the launch flags (empty: none); cluster shape', () => {
  const r = parseCli(['fanout', '--rotor-flags=--cpu-prof  --max-semi-space-size=16', '--cluster-gateways', '3'], 1);
  assert.ok(!r.help);
  if (r.help) return;
  assert.deepEqual(r.config.rotorFlags, ['--cpu-prof', '--max-semi-space-size=16']);
  assert.equal(r.config.clusterGateways, 3);
  assert.equal(r.config.clusterShards, 2);
  const none = parseCli(['fanout', '--rotor-flags='], 1);
  assert.ok(!none.help && none.config.rotorFlags?.length === 0);
  const dflt = parseCli(['fanout'], 1);
  assert.ok(!dflt.help && dflt.config.rotorFlags === null);
});
