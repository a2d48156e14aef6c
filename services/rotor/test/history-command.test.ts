// `rotor history` as an operator runs it: a child process against a real nats-server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HistoryOptions } from '@rotor/core';
import { startNatsServer } from '@rotor/testkit';
import { ClusterPublisher, ShardHistoryClient, closeNats, connectNats, NatsBroker, ShardRouter } from '@rotor/nats';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');
const HISTORY: HistoryOptions = { size: 10, ttlMs: 60_000, metaTtlMs: 600_000 };

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', tsx, main, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 30_000 }, (err, _out, stderr) => {
      if (err !== null && typeof err.code !== 'number') return reject(err);
      resolve({ code: err === null ? 0 : (err.code as number), stderr });
    });
  });
}

test('rotor history: bad shard arguments are usage errors', async () => {
  const missing = await run(['history'], {});
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--shard is required/);
  const range = await run(['history', '--shard', '2', '--shards', '2'], {});
  assert.equal(range.code, 2);
  assert.match(range.stderr, /out of range/);
});

test('rotor history serves its shard, takes the ordinal from HOSTNAME, and stops on SIGTERM', async () => {
  await using server = await startNatsServer({ jetstream: true });
  const child = spawn(process.execPath, ['--import', tsx, main, 'history', '--shards', '1'], {
    env: { PATH: process.env['PATH'] ?? '', HOSTNAME: 'rotor-history-0', ROTOR_NATS_URL: server.url, ROTOR_HISTORY_HTTP_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const nc = await connectNats({ url: server.url });
  const router = new ShardRouter(nc, { shards: 1 });
  try {
    const deadline = Date.now() + 20_000;
    while (!stdout.includes('ready')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ready line: ${stdout} ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(stdout, /history shard 0\/1 ready/);
    const publisher = new ClusterPublisher(router, new NatsBroker(nc));
    const pos = await publisher.publish({ channel: 'news', data: new TextEncoder().encode('{}'), history: HISTORY });
    assert.equal(pos.offset, 1);
    const r = await new ShardHistoryClient(router).read({ channel: 'news', limit: -1, reverse: false, metaTtlMs: HISTORY.metaTtlMs });
    assert.deepEqual(r.position, pos);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /stopped/);
  } finally {
    router.close();
    await closeNats(nc);
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  }
});
