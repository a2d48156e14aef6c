import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killLeftoverServer, loopbackNatsPort, natsServerArgs } from './nats-server.ts';

test('loopbackNatsPort: the port of one loopback nats URL, else null', () => {
  assert.equal(loopbackNatsPort('nats://127.0.0.1:4222'), 4222);
  assert.equal(loopbackNatsPort('nats://localhost'), 4222);
  assert.equal(loopbackNatsPort('nats://127.0.0.1:0'), 0);
  assert.equal(loopbackNatsPort(' nats://[::1]:4333 '), 4333);
  for (const bad of ['nats://nats:4222', 'nats://127.0.0.1:4222,nats://127.0.0.1:4223', 'tls://127.0.0.1:4222', 'nats://u:p@127.0.0.1:4222', 'not a url']) {
    assert.equal(loopbackNatsPort(bad), null, bad);
  }
});

test('natsServerArgs: loopback, JetStream in the store, port 0 asks the server for a free one', () => {
  assert.deepEqual(natsServerArgs(0, '/s', '/p'), ['-a', '127.0.0.1', '-p', '-1', '-js', '-sd', '/s', '--ports_file_dir', '/p']);
  assert.equal(natsServerArgs(4222, '/s', '/p')[3], '4222');
});

test('killLeftoverServer kills only a nats-server running on that store', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-leftover-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pidFile = join(dir, 'nats.pid');
  assert.equal(killLeftoverServer(pidFile, '/store'), null, 'no pid file');
  writeFileSync(pidFile, `${process.pid}\n`);
  assert.equal(killLeftoverServer(pidFile, '/store'), null, 'this test process is no nats-server');
  writeFileSync(pidFile, 'garbage');
  assert.equal(killLeftoverServer(pidFile, '/store'), null);
});
