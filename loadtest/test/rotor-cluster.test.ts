// The rotor-cluster target end to end with tiny parameters: the real `rotor cluster` supervisor
// (nats-server with JetStream, 2 history shards, 2 gateways on one port, the api), Centrifugo
// protocol clients spread over both gateways by the kernel, client publishes through NATS, and
// the server API of the api role. Every process is listed with its own CPU and RSS; nothing is left
// running afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCli, runScenario, type FanoutResult, type PublishResult } from '../src/index.ts';

function config(argv: string[]) {
  const p = parseCli(argv, 1);
  if (p.help) throw new Error('unreachable');
  return { ...p.config, outDir: null };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

test('rotor-cluster: fanout over two gateways without loss, every process measured and stopped', async () => {
  const cfg = config(['fanout', '--targets', 'rotor-cluster', '--format', 'protobuf', '--subs', '40', '--channels', '2', '--pubs', '2', '--messages', '300', '--window', '16', '--warmup', '0']);
  const run = await runScenario('fanout', cfg, () => undefined);
  const [r] = run.report.results as FanoutResult[];
  assert.ok(r && 'delivered' in r, JSON.stringify(run.report.results));
  assert.equal(r.format, 'protobuf');
  assert.equal(r.published, 300);
  assert.equal(r.delivered, 300 * 20, 'each of the 2 channels has 20 subscribers');
  assert.equal(r.drained, true);
  assert.deepEqual(r.loss, { lost: 0, subscribersWithLoss: 0, duplicates: 0, disorder: 0, malformed: 0, disconnected: 0 });
  assert.deepEqual(
    r.server.map((p) => p.label),
    ['nats', 'history-0', 'history-1', 'api', 'gateway-1', 'gateway-2'],
  );
  for (const p of r.server) assert.ok(p.rssBytes > 0, `${p.label} has an RSS`);
  // The publications went through both gateways' subscribers (connections are spread by the kernel).
  const gateways = r.server.filter((p) => p.label.startsWith('gateway-'));
  assert.ok(gateways.every((g) => g.cpuPercent > 0), JSON.stringify(gateways));
  assert.match(run.text, /server processes \(cpu, rss\):\n {2}rotor-cluster W=16: nats /);
  // runScenario returned after the target's stop: the supervisor stopped every process it started.
  for (const p of r.server) assert.equal(alive(p.pid), false, `${p.label} (${p.pid}) still runs`);
});

test('rotor-cluster: server API publish through the api role over HTTP and gRPC', async () => {
  const run = await runScenario('publish', config(['publish', '--targets', 'rotor-cluster', '--messages', '60', '--concurrency', '4', '--warmup', '0']), () => undefined);
  const rows = run.report.results as PublishResult[];
  assert.deepEqual(
    rows.map((r) => r.transport),
    ['http', 'grpc'],
    JSON.stringify(run.report.results),
  );
  for (const r of rows) {
    assert.equal(r.published, 60, `${r.transport}: ${r.firstError ?? ''}`);
    assert.equal(r.failed, 0);
  }
});
