// The history role started exactly as the deployment files start it — the compose services'
// command and environment, and a StatefulSet pod of the chart (shard from $HOSTNAME, count from
// ROTOR_HISTORY_SHARDS, the rendered rotor.json) — against a real nats-server with JetStream.
// Each must serve the shard the deployment means, answer the probes on its probe port, and exit 0
// on SIGTERM well within its grace period. Two pods with one ordinal cannot both serve.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startNatsServer } from '../../packages/testkit/src/index.ts';
import { podEnv, renderedConfig, v } from '../../helm/test/render.ts';
import { rotorServices } from './compose.ts';
import { repoRoot } from './repo.ts';

const READY_DEADLINE_MS = 60_000;

interface Role {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startRole(args: string[], env: Record<string, string>): Role {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/rotor/src/main.ts', ...args], {
    cwd: repoRoot,
    // The role's /health and /metrics port (rotor.history.http_port, 8080): a free one in tests.
    env: { PATH: process.env['PATH'] ?? '', ...env, ROTOR_HISTORY_HTTP_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Log lines on stderr at warn or error level (or not JSON log lines at all). */
function warnings(role: Role): string[] {
  return role
    .stderr()
    .split('\n')
    .filter((line) => line !== '' && !/^\{"time":"[^"]*","level":"(debug|info)"/.test(line));
}

async function waitFor(role: Role, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (!pattern.test(role.stdout())) {
    if (role.child.exitCode !== null) throw new Error(`exited ${role.child.exitCode}: ${role.stdout()} ${role.stderr()}`);
    if (Date.now() > deadline) throw new Error(`not ready: ${role.stdout()} ${role.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** SIGTERM, then the exit code and how long the role took; SIGKILL after `graceMs` (a failure). */
async function terminate(role: Role, graceMs: number): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  role.child.kill('SIGTERM');
  const timer = setTimeout(() => role.child.kill('SIGKILL'), graceMs);
  try {
    const code = await role.exited;
    return { code, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** The port of the role's /health, /health/live and /metrics, from its start-up log line. */
function probePort(role: Role): number {
  const line = role
    .stderr()
    .split('\n')
    .find((l) => l.includes('"history probe server listening"'));
  const port = line === undefined ? undefined : (JSON.parse(line) as { httpPort?: unknown }).httpPort;
  assert.ok(typeof port === 'number' && port > 0, `probe port logged: ${role.stderr()}`);
  return port;
}

/** What the chart's probes and the ServiceMonitor get from a running shard. */
async function checkProbes(role: Role): Promise<void> {
  const base = `http://127.0.0.1:${probePort(role)}`;
  const ready = await fetch(`${base}/health`);
  assert.equal(ready.status, 200, await ready.text());
  const live = await fetch(`${base}/health/live`);
  assert.equal(live.status, 200);
  await live.arrayBuffer();
  const metrics = await fetch(`${base}/metrics`);
  const text = await metrics.text();
  assert.equal(metrics.status, 200);
  for (const name of ['rotor_history_channels', 'rotor_history_requests_total', 'rotor_history_epoch_resets_total', 'process_cpu_seconds_total']) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `/metrics has ${name}`);
  }
}

async function cleanup(roles: Role[]): Promise<void> {
  for (const r of roles) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await Promise.all(roles.map((r) => r.exited));
}

test('compose: each history service serves its shard and stops on SIGTERM within stop_grace_period', async () => {
  await using nats = await startNatsServer({ jetstream: true });
  const services = rotorServices().filter((s) => s.role === 'history');
  assert.equal(services.length, 2);
  const roles: Role[] = [];
  try {
    for (const s of services) {
      // Inside compose the URL is nats://nats:4222; here the test's server stands in for it.
      roles.push(startRole([s.role, ...s.args], { ...s.env, ROTOR_NATS_URL: nats.url, HOSTNAME: String(s.service['hostname']) }));
    }
    for (const [i, s] of services.entries()) {
      const shard = s.args[s.args.indexOf('--shard') + 1];
      await waitFor(roles[i] as Role, new RegExp(`history shard ${shard}/${s.config.rotor.history.shards} ready`));
      assert.deepEqual(warnings(roles[i] as Role), [], `${s.name}: no warnings`);
      await checkProbes(roles[i] as Role);
    }
    for (const [i, s] of services.entries()) {
      const graceMs = Number(String(s.service['stop_grace_period']).replace(/s$/, '')) * 1000;
      const { code, ms } = await terminate(roles[i] as Role, graceMs);
      assert.equal(code, 0, `${s.name} exit code`);
      assert.ok(ms < graceMs, `${s.name} stopped in ${ms} ms`);
    }
  } finally {
    await cleanup(roles);
  }
});

test('helm: a history StatefulSet pod takes its shard from the pod name and the count from the chart', async () => {
  await using nats = await startNatsServer({ jetstream: true });
  const dir = mkdtempSync(join(tmpdir(), 'rotor-helm-pod-'));
  const roles: Role[] = [];
  try {
    const file = join(dir, 'rotor.json');
    writeFileSync(file, JSON.stringify(renderedConfig(nats.url)));
    const shards = Number(v('history.shards'));
    const last = shards - 1;
    // The pod's container arguments are ["history"]: nothing else tells it its shard.
    const env = {
      ...podEnv(file),
      HOSTNAME: `release-rotor-history-${last}`,
      // One test server has no quorum for the chart's 3 JetStream replicas.
      ROTOR_HISTORY_REPLICAS: '1',
    };
    const role = startRole(['history'], env);
    roles.push(role);
    await waitFor(role, new RegExp(`history shard ${last}/${shards} ready`));
    assert.deepEqual(warnings(role), [], 'no warnings');
    await checkProbes(role);
    const graceMs = Number(v('history.terminationGracePeriodSeconds')) * 1000;
    const { code, ms } = await terminate(role, graceMs);
    assert.equal(code, 0);
    assert.ok(ms < graceMs, `stopped in ${ms} ms`);
  } finally {
    await cleanup(roles);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('helm: two pods with one ordinal cannot both serve; a crashed shard\'s restart takes its lease over', async () => {
  await using nats = await startNatsServer({ jetstream: true });
  const dir = mkdtempSync(join(tmpdir(), 'rotor-helm-lease-'));
  const roles: Role[] = [];
  try {
    const file = join(dir, 'rotor.json');
    writeFileSync(file, JSON.stringify(renderedConfig(nats.url)));
    const env = { ...podEnv(file), HOSTNAME: 'release-rotor-history-0', ROTOR_HISTORY_REPLICAS: '1' };
    const ready = new RegExp(`history shard 0/${String(v('history.shards'))} ready`);
    const first = startRole(['history'], env);
    roles.push(first);
    await waitFor(first, ready);

    // A second pod with the same name (a force-deleted pod still running on a lost node): refused.
    const second = startRole(['history'], env);
    roles.push(second);
    assert.equal(await second.exited, 1, 'the second owner exits 1');
    assert.match(second.stderr(), /history shard 0 is already served by .*refusing to run it twice/);
    assert.doesNotMatch(second.stdout(), ready);
    await checkProbes(first);

    // The first one crashes (no clean release of its lease); the restarted container takes over.
    first.child.kill('SIGKILL');
    await first.exited;
    const restarted = startRole(['history'], env);
    roles.push(restarted);
    await waitFor(restarted, ready);
    assert.deepEqual(warnings(restarted), [], 'no retries, no warnings: the dead owner does not answer, so its lease is taken over');
    await checkProbes(restarted);
    const { code } = await terminate(restarted, Number(v('history.terminationGracePeriodSeconds')) * 1000);
    assert.equal(code, 0);
  } finally {
    await cleanup(roles);
    rmSync(dir, { recursive: true, force: true });
  }
});
