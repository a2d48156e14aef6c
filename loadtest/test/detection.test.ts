// The harness must notice when a server loses, duplicates or reorders messages: a deliberately
// faulty server (fixtures/faulty-server.ts) is plugged in as a target through the public plug-in
// interface, and the report must show exactly the faults it injected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forkServer, parseCli, registerTarget, runScenario, type FanoutResult, type TargetFactory } from '../src/index.ts';

const faulty: TargetFactory = {
  name: 'faulty',
  description: 'drops, duplicates and reorders on purpose',
  subject: false,
  formats: ['text'],
  scenarios: ['fanout'],
  unavailable: () => null,
  async start() {
    const { handle, port } = await forkServer(new URL('./fixtures/faulty-server.ts', import.meta.url).href, []);
    return {
      endpoint: { host: '127.0.0.1', port, extra: {} },
      processes: [{ label: 'faulty', pid: handle.pid }],
      // The faulty server speaks the uws baseline's protocol, so its driver is reused.
      driverModule: new URL('../src/targets/uws/driver.ts', import.meta.url).href,
      format: 'text',
      stop: () => handle.stop(),
    };
  },
};

test('loss, duplicates and disorder injected by the server are each counted exactly', async () => {
  registerTarget(faulty);
  const p = parseCli(
    ['fanout', '--targets', 'faulty', '--subs', '5', '--pubs', '1', '--messages', '200', '--window', '32', '--warmup', '0', '--drain-timeout', '1s', '--stall-timeout', '2s'],
    1,
  );
  if (p.help) throw new Error('unreachable');
  const run = await runScenario('fanout', { ...p.config, outDir: null }, () => undefined);
  const [r] = run.report.results as FanoutResult[];
  assert.ok(r, JSON.stringify(run.report.results));
  assert.equal(r.published, 200);
  assert.equal(r.drained, false, 'the lossy subscriber never catches up');
  const { worstSubscribers, ...totals } = r.loss;
  assert.deepEqual(totals, { lost: 20, subscribersWithLoss: 1, duplicates: 20, disorder: 100, malformed: 0, disconnected: 0 });
  // Per subscriber: three distinct subscribers, one fault each, the reorderings (most) first.
  assert.ok(worstSubscribers);
  assert.deepEqual(worstSubscribers[0] && { ...worstSubscribers[0], subscriber: 0 }, { subscriber: 0, lost: 0, duplicates: 0, disorder: 100, disconnected: false });
  const key = (w: { lost: number; duplicates: number; disorder: number; disconnected: boolean }) => `${w.lost}/${w.duplicates}/${w.disorder}/${w.disconnected}`;
  assert.deepEqual(worstSubscribers.map(key).sort(), ['0/0/100/false', '0/20/0/false', '20/0/0/false']);
  assert.equal(new Set(worstSubscribers.map((w) => w.subscriber)).size, 3);
  assert.match(run.text, /lost 20 \(1 subs\), dup 20, disorder 100, undrained/);
});
