// The example configs and the compose cluster: every config the CLI accepts without a warning,
// secrets are marked placeholders, and compose's services, ports, shard indices and Prometheus
// targets agree with the configuration the containers would load.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { configEnvNames, defaultConfig, loadConfig, nonConfigEnvVars } from '../../packages/core/src/index.ts';
import { rotorServices, type RotorService } from './compose.ts';
import { asRecord, readText, readYaml, repoPath, repoRoot } from './repo.ts';

const run = promisify(execFile);

const exampleConfigs = ['deploy/config/rotor.json', 'deploy/config/embedded.yaml'];

/** Runs `rotor checkconfig FILE` as an operator would, with no ROTOR_* variables around. */
async function checkconfig(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'services/rotor/src/main.ts', 'checkconfig', file], {
      cwd: repoRoot,
      env: { PATH: process.env['PATH'] ?? '' },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

for (const file of exampleConfigs) {
  test(`rotor checkconfig accepts ${file} without warnings`, async () => {
    const r = await checkconfig(file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /configuration is valid/);
    assert.equal(r.stderr, '', 'no warnings expected');
  });

  test(`${file}: secrets are marked CHANGE_ME placeholders, health and metrics are on`, () => {
    const { config } = loadConfig({ file: repoPath(file), env: {} });
    for (const [key, value] of [
      ['client.token.hmac_secret_key', config.client.token.hmacSecretKey],
      ['http_api.key', config.httpApi.key],
      ['grpc_api.key', config.grpcApi.key],
    ] as const) {
      assert.match(value, /^CHANGE_ME-placeholder-/, `${key} must be a visible placeholder`);
    }
    assert.equal(config.health.enabled, true);
    assert.equal(config.prometheus.enabled, true);
  });
}

test('rotor checkconfig fails on a broken config (the check above can fail)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-deploy-'));
  try {
    const file = join(dir, 'broken.json');
    writeFileSync(file, JSON.stringify({ http_server: { port: 'eighty' }, rotor: { history: { shards: 0 } } }));
    const r = await checkconfig(file);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /http_server\.port/);
    assert.match(r.stderr, /rotor\.history\.shards/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function containerPorts(service: Record<string, unknown>): number[] {
  return ((service['ports'] as string[] | undefined) ?? []).map((p) => Number(p.split(':').at(-1)));
}

function healthcheck(service: Record<string, unknown>): string {
  const hc = asRecord(service['healthcheck'], 'healthcheck');
  return (hc['test'] as string[]).join(' ');
}

test('compose: 2 gateways, 1 api and one history service per shard, all on one shard count', () => {
  const services = rotorServices();
  const byRole = (role: string): RotorService[] => services.filter((s) => s.role === role);
  assert.equal(byRole('gateway').length, 2);
  assert.equal(byRole('api').length, 1);
  assert.deepEqual(
    services.map((s) => s.role).filter((r) => !['gateway', 'api', 'history'].includes(r)),
    [],
    'only cluster roles',
  );

  const shardCounts = new Set(services.map((s) => s.config.rotor.history.shards));
  assert.equal(shardCounts.size, 1, 'every role must agree on the shard count');
  const shards = [...shardCounts][0] as number;
  const indices = byRole('history')
    .map((s) => {
      const at = s.args.indexOf('--shard');
      assert.ok(at >= 0, `${s.name}: give the shard index explicitly`);
      return Number(s.args[at + 1]);
    })
    .sort((a, b) => a - b);
  assert.deepEqual(indices, Array.from({ length: shards }, (_, i) => i), 'one history service per shard index 0..N-1');
});

test('compose: published ports and healthchecks match the configured ports', () => {
  for (const s of rotorServices()) {
    if (s.role === 'gateway') {
      assert.deepEqual(containerPorts(s.service), [s.config.httpServer.port], s.name);
      assert.match(healthcheck(s.service), new RegExp(`127\\.0\\.0\\.1:${s.config.httpServer.port}/health'`), s.name);
    } else if (s.role === 'api') {
      assert.equal(s.config.grpcApi.enabled, true);
      assert.deepEqual(containerPorts(s.service), [s.config.rotor.apiPort, s.config.grpcApi.port], s.name);
      assert.match(healthcheck(s.service), new RegExp(`127\\.0\\.0\\.1:${s.config.rotor.apiPort}/health'`), s.name);
    } else {
      // The shard's probe port is internal: Prometheus reaches it over the compose network.
      assert.deepEqual(containerPorts(s.service), [], s.name);
      assert.match(healthcheck(s.service), new RegExp(`127\\.0\\.0\\.1:${s.config.rotor.history.httpPort}/health'`), s.name);
    }
  }
});

test('compose: the history port is set explicitly, to the default of rotor.history.http_port', () => {
  const raw = asRecord(JSON.parse(readText('deploy/config/rotor.json')), 'rotor.json');
  const history = asRecord(asRecord(raw['rotor'], 'rotor')['history'], 'rotor.history');
  assert.equal(history['http_port'], defaultConfig('test').rotor.history.httpPort);
  for (const s of rotorServices().filter((x) => x.role === 'history')) assert.equal(s.config.rotor.history.httpPort, history['http_port'], s.name);
});

test('compose: every ROTOR_* variable the services set is one the application reads', () => {
  const known = new Set([...configEnvNames(), ...nonConfigEnvVars]);
  const services = rotorServices();
  const names = new Set(services.flatMap((s) => Object.keys(asRecord(s.service['environment'], s.name))));
  assert.ok(names.size >= 6);
  for (const name of names) assert.ok(known.has(name), `${name} is not a configuration variable`);
  // The check can fail: a misspelt or stale name is not known.
  assert.equal(known.has('ROTOR_HISTORY_HTTPPORT'), false);
});

test('READMEs: every ROTOR_* variable they name is one the application reads', () => {
  const known = new Set([...configEnvNames(), ...nonConfigEnvVars]);
  for (const file of ['deploy/README.md', 'helm/rotor/README.md', 'services/history/README.md']) {
    const named = [...readText(file).matchAll(/\b(ROTOR_[A-Z0-9_]*[A-Z0-9])\b/g)].map((m) => m[1] as string);
    for (const name of named) assert.ok(known.has(name), `${file}: ${name} is not a configuration variable`);
  }
});

test('compose: NATS runs JetStream under the host name the config uses; containers are read-only', () => {
  const compose = asRecord(readYaml('deploy/compose.yaml'), 'compose.yaml');
  const services = asRecord(compose['services'], 'services');
  for (const s of rotorServices()) {
    const url = new URL(s.config.rotor.nats.url);
    const nats = asRecord(services[url.hostname], `service ${url.hostname}`);
    assert.ok((nats['command'] as string[]).includes('--jetstream'), 'JetStream is required');
    assert.equal(url.port, '4222');
    assert.equal(s.service['read_only'], true, `${s.name}: read-only root file system`);
    assert.ok((s.service['tmpfs'] as string[]).includes('/tmp'), `${s.name}: /tmp for the tsx cache`);
    const drainMs = s.config.rotor.drainWindowMs;
    const graceSeconds = Number(String(s.service['stop_grace_period']).replace(/s$/, ''));
    assert.ok(graceSeconds * 1000 > drainMs, `${s.name}: stop_grace_period must exceed rotor.drain_window`);
  }
});

test('compose: Prometheus scrapes every Rotor service on its metrics port', () => {
  const prom = asRecord(readYaml('deploy/prometheus/prometheus.yml'), 'prometheus.yml');
  const targets = new Map<string, string>();
  for (const job of prom['scrape_configs'] as Array<Record<string, unknown>>) {
    for (const sc of job['static_configs'] as Array<Record<string, unknown>>) {
      const role = asRecord(sc['labels'], 'labels')['role'] as string;
      for (const t of sc['targets'] as string[]) targets.set(t, role);
    }
  }
  const expected = new Map<string, string>();
  for (const s of rotorServices()) {
    const port = s.role === 'gateway' ? s.config.httpServer.port : s.role === 'api' ? s.config.rotor.apiPort : s.config.rotor.history.httpPort;
    expected.set(`${s.name}:${port}`, s.role);
  }
  assert.deepEqual([...targets].sort(), [...expected].sort());
});

test('the compose file documents how secrets reach the containers', () => {
  const text = readText('deploy/compose.yaml');
  for (const name of ['ROTOR_CLIENT_TOKEN_HMAC_SECRET_KEY', 'ROTOR_HTTP_API_KEY', 'ROTOR_GRPC_API_KEY']) {
    assert.match(text, new RegExp(`^  ${name}:\\s*$`, 'm'), `${name} passes through from the shell`);
  }
});
