// The other two baselines through the same tiny fanout: several channels per subscriber and
// publishers feeding several channels, no loss. nats-server packs many messages into one frame,
// which the report must count as messages, not frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCli, runScenario, type FanoutResult } from '../src/index.ts';

async function fanout(target: string): Promise<FanoutResult[]> {
  const p = parseCli(
    ['fanout', '--targets', target, '--subs', '20', '--channels', '3', '--sub-channels', '2', '--pubs', '2', '--messages', '300', '--window', '16,128', '--warmup', '0', '--workers', '2'],
    1,
  );
  if (p.help) throw new Error('unreachable');
  const run = await runScenario('fanout', { ...p.config, outDir: null }, () => undefined);
  const rows = run.report.results as FanoutResult[];
  assert.equal(rows.length, 2, JSON.stringify(run.report.results));
  return rows;
}

for (const target of ['socketio', 'nats']) {
  test(`${target}: multi-channel fanout without loss`, async () => {
    for (const r of await fanout(target)) {
      assert.equal(r.published, 300);
      assert.equal(r.drained, true);
      // 3 channels, 20 subscribers × 2 channels: each channel has 40/3 subscribers on average;
      // every publication reaches every subscriber of its channel.
      assert.ok(r.delivered >= 300 * 13 && r.delivered <= 300 * 14, `delivered ${r.delivered}`);
      assert.deepEqual(r.loss, { lost: 0, subscribersWithLoss: 0, duplicates: 0, disorder: 0, malformed: 0, disconnected: 0 });
      assert.ok(r.messagesPerFrame >= 1);
      assert.equal(r.latencyUs.count, r.delivered);
    }
  });
}
