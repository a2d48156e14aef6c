import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeRatios, machineInfo, renderRatios, renderTable, writeReport, type AnyResult } from './report.ts';
import type { FanoutResult } from './scenarios/fanout/run.ts';
import type { IdleResult } from './scenarios/idle/run.ts';

const noLoss = { lost: 0, subscribersWithLoss: 0, duplicates: 0, disorder: 0, malformed: 0, disconnected: 0 };
const lat = (p99: number) => ({ count: 10, min: 1, max: p99, mean: 5, p50: 5, p90: 8, p99, p999: p99 });

function fanout(target: string, window: number, rate: number, cpu: number, p99: number, procs = 1): FanoutResult {
  return {
    target,
    format: 'json',
    window,
    subscribers: 1000,
    channels: 1,
    subChannels: 1,
    publishers: 4,
    payloadSize: 128,
    seconds: 10,
    published: rate / 100,
    delivered: rate * 10,
    deliveredPerSecond: rate,
    framesPerSecond: rate,
    messagesPerFrame: 1,
    latencyUs: lat(p99),
    server: Array.from({ length: procs }, (_, i) => ({ label: `p${i}`, pid: i + 1, cpuPercent: cpu / procs, rssBytes: 1e6 })),
    serverCpuPercent: cpu,
    deliveriesPerServerCpuSecond: rate / (cpu / 100),
    serverRssBytes: 1e6 * procs,
    generatorCpuPercent: 90,
    generatorThreads: 2,
    ended: 'time',
    drained: true,
    loss: noLoss,
  };
}

test('fanout ratios pair the subject with each baseline per window', () => {
  const results: AnyResult[] = [
    fanout('rotor', 32, 2e6, 100, 2000, 2),
    fanout('rotor', 256, 1e6, 100, 9000, 2),
    fanout('uws', 32, 1e6, 50, 1000),
    fanout('uws', 256, 4e5, 100, 3000),
    { target: 'nats', skipped: 'nats-server not found' },
  ];
  const ratios = computeRatios('fanout', results, new Set(['rotor']));
  assert.equal(ratios.length, 6);
  const at = (phase: string, metric: string) => ratios.find((r) => r.phase === phase && r.metric === metric)!.value;
  assert.equal(at('W=32', 'delivered/s'), 2);
  assert.equal(at('W=32', 'deliveries per server CPU-s'), 1);
  assert.equal(at('W=32', 'p99 latency'), 2);
  assert.equal(at('W=256', 'delivered/s'), 2.5);
  assert.ok(ratios.every((r) => r.subject === 'rotor' && r.baseline === 'uws'));
  const text = renderRatios(ratios);
  assert.match(text, /rotor \/ uws\s+W=32\s+delivered\/s\s+2\.00×\s+higher is better/);
  const table = renderTable('fanout', results);
  assert.match(table, /^target\s+W\s+deliv\/s/);
  assert.match(table, /rotor\s+32\s+2\.00M/);
  assert.match(table, /server processes \(cpu, rss\):\n {2}rotor W=32: p0 50% 976\.6KB, p1 50% 976\.6KB/);
  assert.match(table, /skipped:\n {2}nats: nats-server not found/);
});

test('without a subject there are no ratios', () => {
  assert.deepEqual(computeRatios('fanout', [fanout('uws', 32, 1e6, 50, 1000), fanout('nats', 32, 2e6, 50, 1000)], new Set()), []);
  assert.equal(renderRatios([]), '');
});

test('idle ratio is bytes per connection; losses are spelled out in the fanout table', () => {
  const idle = (target: string, perConn: number): IdleResult => ({
    target,
    format: 'json',
    connections: 1000,
    failed: 0,
    droppedWhileIdle: 0,
    clientProcesses: 1,
    connectSeconds: 1,
    rssBefore: { rssBytes: 1e7, stable: true, waitedMs: 1000 },
    rssAfter: { rssBytes: 1e7 + perConn * 1000, stable: false, waitedMs: 10_000 },
    bytesPerConnection: perConn,
    idleServerCpuPercent: 0,
    processes: [{ label: target, pid: 1, rssBeforeBytes: 1e7, rssAfterBytes: 1e7 + perConn * 1000 }],
  });
  const [r] = computeRatios('idle', [idle('rotor', 3000), idle('uws', 1500)], new Set(['rotor']));
  assert.equal(r?.value, 2);
  assert.equal(r?.higherIsBetter, false);
  assert.match(renderTable('idle', [idle('uws', 1500)]), /still moving/);
  assert.doesNotMatch(renderTable('idle', [idle('uws', 1500)]), /server processes/, 'one process: no breakdown');
  const cluster = { ...idle('rotor-cluster', 1000), processes: [{ label: 'nats', pid: 1, rssBeforeBytes: 1 << 20, rssAfterBytes: 1 << 20 }, { label: 'gateway-1', pid: 2, rssBeforeBytes: 100 << 20, rssAfterBytes: 110 << 20 }] };
  assert.match(renderTable('idle', [cluster]), /server processes \(rss before → after\):\n {2}rotor-cluster: nats 1\.0MB → 1\.0MB, gateway-1 100\.0MB → 110\.0MB/);
  const lossy = { ...fanout('x', 32, 1, 1, 1), ended: 'stalled' as const, loss: { ...noLoss, lost: 7, subscribersWithLoss: 2, duplicates: 1 } };
  assert.match(renderTable('fanout', [lossy]), /lost 7 \(2 subs\), dup 1, STALLED/);
});

test('the report file is named by scenario and start time', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loadtest-report-'));
  try {
    const file = writeReport(join(dir, 'nested'), {
      scenario: 'idle',
      startedAt: '2026-01-02T03:04:05.678Z',
      finishedAt: '2026-01-02T03:04:15.678Z',
      command: 'pnpm bench idle',
      machine: machineInfo(),
      options: { connections: 1 },
      results: [],
      ratios: [],
    });
    assert.equal(file, join(dir, 'nested', 'idle-2026-01-02T03-04-05-678Z.json'));
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { command: string }).command, 'pnpm bench idle');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fixed-rate phases: named by their rate in the table and the ratios, a missed schedule is spelled out', () => {
  const closed = fanout('rotor', 256, 3e6, 100, 9000);
  const fixed: FanoutResult = { ...fanout('rotor', 256, 1.5e6, 50, 4000), rate: 2000, rateSpec: '50%', published: 15_000 };
  const base: FanoutResult = { ...fanout('uws', 256, 1e6, 50, 2000), rate: 1000, rateSpec: '50%', published: 10_000 };
  const ratios = computeRatios('fanout', [closed, fixed, base], new Set(['rotor']));
  assert.deepEqual([...new Set(ratios.map((r) => r.phase))], ['rate 50%']);
  assert.equal(ratios.find((r) => r.metric === 'p99 latency')?.value, 2);
  const table = renderTable('fanout', [closed, fixed, base]);
  assert.match(table, /rotor\s+2\.0k\/s\s+1\.50M/);
  // rotor: 15 000 in 10 s = 1.5k/s of 2.0k/s scheduled; uws: 1.0k/s of 1.0k/s (kept).
  assert.match(table, /fixed rate not reached \(latency includes the wait\):\n {2}rotor rate 50%: published 1\.5k\/s of 2\.0k\/s scheduled$/);
});
