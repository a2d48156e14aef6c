// `pnpm cluster` as a developer runs it (a real process, through pnpm): it prints the endpoints and
// a key, a centrifuge-js subscriber on the shared gateway port receives what is published through
// the HTTP API and through gRPC with that key, kill -9 of one gateway loses nothing for the
// recovering clients, and SIGTERM stops every process (exit 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@rotor/testkit';
import { assertDeliveredExactlyOnce, grpcApiClient, grpcCall, httpApi, SteadyPublisher } from '../src/cluster.ts';
import { spawnRotor, START_TIMEOUT_MS, tempDir } from '../src/rotor-process.ts';
import { SDK_BUILDS, subscriber } from '../src/sdk.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

test('pnpm cluster: publish over HTTP and gRPC with the printed key reaches centrifuge-js; a killed gateway loses nothing; SIGTERM stops everything', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t, 'rotor-cluster-e2e-');
  // --dev: the development configuration, as with zero configuration, but on free ports.
  const cluster = spawnRotor(t, {
    args: ['cluster', '--dev', '--dir', dir],
    env: { ROTOR_NATS_URL: 'nats://127.0.0.1:0', ROTOR_HTTP_SERVER_PORT: '0', ROTOR_API_PORT: '0', ROTOR_GRPC_API_PORT: '0' },
    viaPnpm: true,
  });
  const ready = await cluster.logLine('cluster ready', START_TIMEOUT_MS);
  const pids = ready['pids'] as Record<string, number>;
  // Children run in process groups of their own: kill each one, whatever happens to the test.
  t.after(() => {
    const restarted = cluster.logs.filter((l) => l.msg === 'process ready').map((l) => l['pid'] as number);
    for (const pid of new Set([...Object.values(pids), ...restarted])) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  cluster.serverPid = ready['pid'] as number;
  assert.deepEqual(Object.keys(pids).sort(), ['api', 'gateway-1', 'gateway-2', 'history-0', 'history-1', 'nats']);
  const httpPort = ready['httpPort'] as number;
  const apiPort = ready['apiPort'] as number;
  const grpcPort = ready['grpcPort'] as number;
  await waitFor(() => cluster.stdout.includes('cluster ready'), { timeoutMs: 10_000, what: 'the banner' });
  assert.match(cluster.stdout, /INSECURE DEVELOPMENT CONFIGURATION/);
  assert.match(cluster.stdout, new RegExp(`WebSocket\\s+ws://localhost:${httpPort}/connection/websocket\\s+\\(gateway-1, gateway-2 share the port\\)`));
  const apiKey = /^\s+API key\s+(\S+)/m.exec(cluster.stdout)?.[1];
  assert.ok(apiKey !== undefined && apiKey.length >= 40, cluster.stdout);
  assert.ok(!cluster.stderr.includes(apiKey), 'the key is never logged');
  for (const name of Object.keys(pids)) assert.match(cluster.stdout, new RegExp(`^${name}\\s+\\| `, 'm'), `prefixed lines of ${name}`);

  const wsUrl = `ws://127.0.0.1:${httpPort}/connection/websocket`;
  const channel = 'chat:lobby';
  const subs = await Promise.all(SDK_BUILDS.flatMap(([, Build]) => [subscriber(t, Build, wsUrl, channel), subscriber(t, Build, wsUrl, channel)]));
  const base = `http://127.0.0.1:${apiPort}`;
  const viaHttp = await httpApi(base, apiKey, 'publish', { channel, data: { via: 'http' } });
  assert.deepEqual([viaHttp.status, viaHttp.result?.['offset']], [200, 1], JSON.stringify(viaHttp));
  const grpc = grpcApiClient(t, `127.0.0.1:${grpcPort}`);
  const viaGrpc = await grpcCall(grpc, apiKey, 'Publish', { channel, data: Buffer.from(JSON.stringify({ via: 'grpc' })) });
  assert.equal(viaGrpc.result?.['offset'], 2, JSON.stringify(viaGrpc));
  assert.equal((await httpApi(base, 'wrong-key', 'publish', { channel, data: {} })).status, 401);
  for (const s of subs) assert.deepEqual((await s.publications.waitFor(2, 15_000)).map((p) => p.data), [{ via: 'http' }, { via: 'grpc' }]);

  // Which gateway holds the clients shows in `info` (node heartbeats every 5 s).
  let victim = '';
  await waitFor(
    async () => {
      const nodes = (await httpApi(base, apiKey, 'info', {})).result?.['nodes'] as Array<{ name: string; num_clients?: number }>;
      const gateways = nodes.filter((n) => n.name.startsWith('gateway-'));
      if (gateways.reduce((sum, n) => sum + (n.num_clients ?? 0), 0) !== subs.length) return false;
      victim = gateways.sort((a, b) => (b.num_clients ?? 0) - (a.num_clients ?? 0))[0]?.name ?? '';
      return true;
    },
    { timeoutMs: 20_000, intervalMs: 250, what: 'info counting every client on the gateways' },
  );

  const publisher = new SteadyPublisher((ch, data) => httpApi(base, apiKey, 'publish', { channel: ch, data }), [channel]);
  t.after(() => publisher.stop());
  await publisher.waitForAcks(50, 30_000);
  const killedAt = Date.now();
  process.kill(pids[victim] as number, 'SIGKILL');
  await waitFor(() => subs.some((s) => s.subscribed.length >= 2), { timeoutMs: 30_000, what: 'clients of the killed gateway resubscribing' });
  const movedMs = Date.now() - killedAt;
  await publisher.waitForAcks(50, 30_000);
  await publisher.stop();
  assert.deepEqual(publisher.failures, []);
  let moved = 0;
  for (const [i, s] of subs.entries()) {
    if (s.subscribed.length >= 2) {
      moved++;
      assert.equal(s.subscribed.items[1]?.recovered, true, `client ${i} recovered`);
    }
    await assertDeliveredExactlyOnce(`client ${i}`, s.publications, publisher.acks);
  }
  await waitFor(() => cluster.stderr.includes('"msg":"restarting process"'), { timeoutMs: 10_000, what: 'the supervisor restarting the killed gateway' });
  t.diagnostic(`pnpm cluster: killed ${victim}; ${moved} of ${subs.length} clients moved and recovered within ${movedMs} ms; ${publisher.acks.length} publications checked per client`);

  assert.equal(await cluster.stop('SIGTERM', 60_000), 0, cluster.stderr.slice(-3000));
  const stopped = cluster.logs.filter((l) => l.msg === 'process stopped').map((l) => l['name']);
  assert.deepEqual(stopped.slice(0, 2).sort(), ['gateway-1', 'gateway-2'], 'gateways stop first');
  assert.equal(stopped.at(-1), 'nats', 'nats-server stops last');
  const restarted = cluster.logs.filter((l) => l.msg === 'process ready' && l['name'] === victim).at(-1)?.['pid'] as number | undefined;
  for (const pid of [...Object.values(pids), ...(restarted === undefined ? [] : [restarted])]) assert.equal(alive(pid), false, `pid ${pid} is gone`);
});
