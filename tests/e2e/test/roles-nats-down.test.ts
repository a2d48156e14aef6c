// The role processes started while NATS is down: they say so in their logs, hold their ports with
// 503 (readiness off), connect by themselves once NATS is there, turn ready, and stop with exit 0
// on SIGTERM — also one stopped while it was still waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNatsServer, waitFor } from '@rotor/testkit';
import { API_KEY, CHAT_NAMESPACE } from '../src/cluster.ts';
import { spawnRotor, START_TIMEOUT_MS } from '../src/rotor-process.ts';
import type { RotorProcess } from '../src/rotor-process.ts';

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}

test('roles started before NATS: 503 and clear log lines while waiting, ready once NATS is up, exit 0 on SIGTERM', { timeout: 120_000 }, async (t) => {
  await using nats = await startNatsServer({ jetstream: true });
  await nats.stop();
  const env = {
    ROTOR_NATS_URL: nats.url,
    ROTOR_HTTP_SERVER_ADDRESS: '127.0.0.1',
    ROTOR_HTTP_SERVER_PORT: '0',
    ROTOR_API_PORT: '0',
    ROTOR_HISTORY_HTTP_PORT: '0',
    ROTOR_HISTORY_SHARD: '0',
    ROTOR_HTTP_API_KEY: API_KEY,
    ROTOR_HEALTH_ENABLED: 'true',
    ROTOR_PROMETHEUS_ENABLED: 'true',
    ROTOR_CHANNEL_NAMESPACES: JSON.stringify([CHAT_NAMESPACE]),
  };
  const roles: Array<[string, RotorProcess]> = ['gateway', 'api', 'history', 'gateway'].map((role) => [role, spawnRotor(t, { args: [role], env })]);
  const ports = await Promise.all(
    roles.map(async ([role, p]) => {
      const line = await p.logLine(role === 'history' ? 'history probe server listening' : 'waiting for nats', START_TIMEOUT_MS);
      await p.logLine('nats unreachable, retrying', START_TIMEOUT_MS);
      return (line['port'] ?? line['httpPort']) as number;
    }),
  );
  for (const [i, [role, p]] of roles.entries()) {
    const unreachable = p.logs.find((l) => l.msg === 'nats unreachable, retrying');
    assert.equal(unreachable?.['servers'], nats.url, `${role} names the NATS it waits for`);
    const health = await get(ports[i] as number, '/health');
    assert.equal(health.status, 503, `${role} /health while waiting`);
    assert.match(health.body, /waiting for nats/);
  }
  const ws = await get(ports[0] as number, '/connection/websocket');
  assert.equal(ws.status, 503, 'the gateway port refuses clients while waiting');

  // One gateway is stopped before NATS ever came: a clean exit.
  const [, early] = roles.pop() as [string, RotorProcess];
  assert.equal(await early.stop('SIGTERM'), 0);
  assert.ok(early.logs.some((l) => l.msg === 'rotor stopped before it was ready'));

  await nats.restart();
  const started = await Promise.all(roles.map(([, p]) => p.logLine('rotor started', START_TIMEOUT_MS)));
  for (const [i, [role, p]] of roles.entries()) {
    const port = started[i]?.['httpPort'] as number;
    assert.equal(port, ports[i], `${role} serves on the port it held while waiting`);
    await waitFor(async () => (await get(port, '/health')).status === 200, { timeoutMs: 10_000, what: `${role} ready` });
    assert.ok(p.logs.some((l) => l.msg === 'nats connected' && typeof l['attempts'] === 'number' && (l['attempts'] as number) > 1), `${role} logs the connection after retries`);
  }
  const metrics = await get(ports[2] as number, '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.body, /^rotor_history_channels \d+$/m);

  for (const [role, p] of roles) assert.equal(await p.stop('SIGTERM'), 0, `${role} exit code\n${p.stderr.slice(-2000)}`);
});
