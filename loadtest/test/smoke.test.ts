// Smoke test of every scenario against the uws baseline with tiny parameters (runs in CI): the
// report has its shape, nothing is lost, and the CLI writes its JSON file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseCli, runScenario, type FanoutResult, type IdleResult, type ConnectResult, type SkippedRun } from '../src/index.ts';

function config(argv: string[], outDir: string | null) {
  const p = parseCli(argv, 1);
  assert.equal(p.help, false);
  if (p.help) throw new Error('unreachable');
  return { ...p.config, outDir };
}

const quiet = () => undefined;

test('fanout: 10 subscribers, 200 messages per window, no loss, both windows reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loadtest-smoke-'));
  try {
    const cfg = config(['fanout', '--targets', 'uws', '--subs', '10', '--pubs', '2', '--messages', '200', '--window', '8,64', '--warmup', '0', '--duration', '10s'], dir);
    const run = await runScenario('fanout', cfg, quiet);
    const rows = run.report.results as FanoutResult[];
    assert.equal(rows.length, 2);
    assert.deepEqual(rows.map((r) => r.window), [8, 64]);
    for (const r of rows) {
      assert.equal(r.target, 'uws');
      assert.equal(r.ended, 'messages');
      assert.equal(r.drained, true);
      assert.equal(r.published, 200);
      assert.equal(r.delivered, 200 * 10);
      assert.deepEqual(r.loss, { lost: 0, subscribersWithLoss: 0, duplicates: 0, disorder: 0, malformed: 0, disconnected: 0 });
      assert.equal(r.latencyUs.count, 2000);
      assert.ok(r.latencyUs.p50 > 0 && r.latencyUs.p50 <= r.latencyUs.p99 && r.latencyUs.p99 <= r.latencyUs.p999);
      assert.ok(r.deliveredPerSecond > 0);
      assert.equal(r.messagesPerFrame, 1, 'uws sends one frame per message');
      assert.equal(r.server.length, 1);
      assert.ok(r.serverRssBytes > 0);
      assert.ok(r.generatorCpuPercent > 0);
    }
    assert.match(run.text, /deliv\/s/);
    assert.ok(run.file && readdirSync(dir).length === 1);
    const json = JSON.parse(readFileSync(run.file, 'utf8')) as { scenario: string; results: unknown[]; machine: { cpus: number } };
    assert.equal(json.scenario, 'fanout');
    assert.equal(json.results.length, 2);
    assert.ok(json.machine.cpus >= 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fanout --rate: a fixed-rate phase keeps its schedule and stamps the due time', async () => {
  const cfg = config(['fanout', '--targets', 'uws', '--subs', '10', '--pubs', '2', '--rate', '2000', '--messages', '300', '--window', '64', '--warmup', '0'], null);
  const run = await runScenario('fanout', cfg, quiet);
  const rows = run.report.results as FanoutResult[];
  assert.equal(rows.length, 1, 'an absolute rate runs only the fixed-rate phase');
  const [r] = rows;
  assert.ok(r);
  assert.equal(r.rate, 2000);
  assert.equal(r.rateSpec, '2.0k/s');
  assert.equal(r.published, 300);
  assert.equal(r.delivered, 300 * 10);
  assert.deepEqual(r.loss, { lost: 0, subscribersWithLoss: 0, duplicates: 0, disorder: 0, malformed: 0, disconnected: 0 });
  // 300 publications at 2000/s take 150 ms: the phase cannot have been much faster.
  assert.ok(r.seconds >= 0.14, `phase took ${r.seconds} s`);
  assert.match(run.text, /uws\s+2\.0k\/s\s/);

  const pct = await runScenario('fanout', config(['fanout', '--targets', 'uws', '--subs', '5', '--pubs', '1', '--rate', '25%,10%', '--messages', '200', '--window', '16', '--warmup', '0'], null), quiet);
  const phases = pct.report.results as FanoutResult[];
  assert.deepEqual(phases.map((p) => p.rateSpec ?? `W=${p.window}`), ['W=16', '25%', '10%']);
  const [closed, quarter, tenth] = phases;
  assert.ok(closed && quarter && tenth);
  const peak = closed.published / closed.seconds;
  assert.ok(Math.abs(quarter.rate! - peak / 4) < 1e-6 * peak, `${quarter.rate} is a quarter of ${peak}`);
  assert.ok(Math.abs(tenth.rate! - peak / 10) < 1e-6 * peak, `${tenth.rate} is a tenth of ${peak}`);
  for (const p of phases) assert.equal(p.loss.lost + p.loss.duplicates + p.loss.disorder, 0);
});

test('idle: 200 connections, a per-connection figure from settled RSS', async () => {
  const cfg = config(['idle', '--targets', 'uws', '--conns', '200', '--per-process', '100', '--settle', '3s'], null);
  const run = await runScenario('idle', cfg, quiet);
  const [r] = run.report.results as IdleResult[];
  assert.ok(r);
  assert.equal(r.connections, 200);
  assert.equal(r.failed, 0);
  assert.equal(r.droppedWhileIdle, 0);
  assert.equal(r.clientProcesses, 2);
  assert.ok(r.rssBefore.rssBytes > 0 && r.rssAfter.rssBytes > 0);
  assert.ok(Number.isFinite(r.bytesPerConnection));
  assert.equal(run.file, null);
});

test('connect: 300 connections with a subscribe each', async () => {
  const cfg = config(['connect', '--targets', 'uws', '--connects', '300', '--concurrency', '8', '--warmup', '0'], null);
  const run = await runScenario('connect', cfg, quiet);
  const [r] = run.report.results as ConnectResult[];
  assert.ok(r);
  assert.equal(r.connects, 300);
  assert.equal(r.failed, 0);
  assert.equal(r.latencyUs.count, 300);
  assert.ok(r.connectsPerSecond > 0);
});

test('publish: the uws baseline has no server API and is reported as skipped', async () => {
  const cfg = config(['publish', '--targets', 'uws', '--messages', '10'], null);
  const run = await runScenario('publish', cfg, quiet);
  const [r] = run.report.results as SkippedRun[];
  assert.match(r?.skipped ?? '', /does not implement the publish scenario/);
  assert.match(run.text, /skipped/);
});

test('the CLI prints help, and refuses bad flags with exit code 2', async () => {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', main, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: pnpm bench <scenario>/);
  assert.match(help.stdout, /rotor,rotor-cluster,uws,socketio,nats/);
  assert.match(help.stdout, /--rotor-flags=FLAGS .*\(--max-semi-space-size=\d+\)/s);
  const bad = await run(['fanout', '--subs', 'many']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--subs must be an integer/);
  const unknown = await run(['fanout', '--targets', 'nope', '--no-json']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown target "nope" \(known: rotor, rotor-cluster, uws, socketio, nats\)/);
});
