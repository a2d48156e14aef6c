import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { startNatsServer } from './nats-server.ts';

function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => (s.destroy(), resolve(false)));
  });
}

test('starts on a free port, restarts on the same port and store, disposes everything', async () => {
  let storeDir: string;
  let port: number;
  {
    await using server = await startNatsServer({ jetstream: true });
    port = server.port;
    storeDir = server.storeDir;
    assert.ok(port > 0);
    assert.equal(server.url, `nats://127.0.0.1:${port}`);
    assert.ok(await probe(port));
    await server.restart();
    assert.equal(server.port, port);
    assert.ok(server.running);
    assert.ok(await probe(port));
    assert.ok(existsSync(storeDir));
    await server.kill();
    assert.equal(server.running, false);
    assert.equal(await probe(port), false);
  }
  assert.equal(existsSync(storeDir), false, 'temp dir removed on dispose');
});

test('two servers get different ports', async () => {
  await using a = await startNatsServer();
  await using b = await startNatsServer();
  assert.notEqual(a.port, b.port);
  assert.equal(a.storeDir, '');
});
