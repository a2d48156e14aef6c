// The Rotor target end to end with tiny parameters: a real gateway process, Centrifugo protocol
// clients in JSON and protobuf, JWT connects; no loss, and ratios to the uws baseline appear.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCli, runScenario, type ConnectResult, type CreateDriver, type FanoutResult, type PublishResult } from '../src/index.ts';

function config(argv: string[]) {
  const p = parseCli(argv, 1);
  if (p.help) throw new Error('unreachable');
  return { ...p.config, outDir: null };
}

for (const format of ['json', 'protobuf']) {
  test(`rotor (${format}): fanout without loss, as ratios to uws`, async () => {
    const cfg = config(['fanout', '--targets', 'rotor,uws', '--format', format, '--subs', '20', '--channels', '2', '--pubs', '2', '--messages', '200', '--window', '16', '--warmup', '0']);
    const run = await runScenario('fanout', cfg, () => undefined);
    const rows = run.report.results as FanoutResult[];
    const rotor = rows.find((r) => r.target === 'rotor');
    assert.ok(rotor, JSON.stringify(run.report.results));
    assert.equal(rotor.format, format);
    assert.equal(rotor.published, 200);
    assert.equal(rotor.delivered, 200 * 10, 'each of the 2 channels has 10 subscribers');
    assert.equal(rotor.drained, true);
    assert.deepEqual(rotor.loss, { lost: 0, subscribersWithLoss: 0, duplicates: 0, disorder: 0, malformed: 0, disconnected: 0 });
    assert.ok(run.report.ratios.some((r) => r.subject === 'rotor' && r.baseline === 'uws' && r.metric === 'delivered/s' && r.value > 0));
    assert.match(run.text, /rotor \/ uws/);
  });
}

test('rotor: connect with JWT and subscribe', async () => {
  const run = await runScenario('connect', config(['connect', '--targets', 'rotor', '--connects', '100', '--concurrency', '4', '--warmup', '0']), () => undefined);
  const [r] = run.report.results as ConnectResult[];
  assert.ok(r && 'connects' in r, JSON.stringify(run.report.results));
  assert.equal(r.connects, 100);
  assert.equal(r.failed, 0);
});

test('rotor driver: a token the server rejects fails the subscribe with the server code', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { rotorTarget } = await import('../src/targets/rotor/target.ts');
  const dir = mkdtempSync(join(tmpdir(), 'loadtest-rotor-'));
  const target = await rotorTarget.start({ format: 'json', payloadSize: 128, maxWindow: 1, tmpDir: dir, log: () => undefined });
  try {
    const mod = (await import(target.driverModule)) as { createDriver: CreateDriver };
    const sink = { onChunk: () => undefined, onFrame: () => undefined, onPayload: () => undefined, onClose: () => undefined };
    const bad = mod.createDriver({ ...target.endpoint, extra: { secret: 'not-the-server-secret' } }, { format: 'json' });
    await assert.rejects(bad.subscribe(['bench.0'], sink), /rotor: (command 1 failed|connection closed \(code 3500\))/);
    const good = mod.createDriver(target.endpoint, { format: 'json' });
    const conn = await good.subscribe(['bench.0'], sink);
    conn.close();
  } finally {
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rotor: server API publish over HTTP and gRPC', async () => {
  const run = await runScenario('publish', config(['publish', '--targets', 'rotor', '--messages', '100', '--concurrency', '4', '--warmup', '0']), () => undefined);
  const rows = run.report.results as PublishResult[];
  assert.deepEqual(rows.map((r) => r.transport), ['http', 'grpc'], JSON.stringify(run.report.results));
  for (const r of rows) {
    assert.equal(r.published, 100, `${r.transport}: ${r.firstError ?? ''}`);
    assert.equal(r.failed, 0);
    assert.equal(r.latencyUs.count, 100);
  }
});
