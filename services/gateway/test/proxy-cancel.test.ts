// A proxy call outlives no connection: when the client goes away, the request to the backend is
// aborted (as Centrifugo cancels the client's context) instead of holding a backend connection
// until the proxy timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Latch } from '@rotor/testkit';
import { RawClient, startTestGateway } from './harness.ts';

test('a connect proxy call is aborted when its client disconnects', async (t) => {
  const received = new Latch();
  const aborted = new Latch();
  const open = new Set<ServerResponse>();
  const backend = createServer((req, res) => {
    open.add(res);
    req.resume();
    res.on('close', () => {
      if (!res.writableEnded) aborted.countDown();
    });
    received.countDown();
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const res of open) res.destroy();
    backend.closeAllConnections();
    backend.close();
  });
  const port = (backend.address() as AddressInfo).port;
  // A long timeout: only the client's disconnect can end the call within the wait below.
  const g = await startTestGateway({
    client: { proxy: { connect: { enabled: true, endpoint: `http://127.0.0.1:${port}/connect`, timeout: '60s' } } },
  });
  t.after(() => g.close());
  const c = await RawClient.open(g.url);
  c.send([{ id: 1, connect: {} }]);
  await received.wait(5000, 'the connect request at the backend');
  c.close();
  await aborted.wait(5000, 'the backend request aborted');
  assert.equal(g.gateway.metrics.connections[0], 0);
});
