import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNatsServer } from '@rotor/testkit';
import { closeNats, connectNats } from '../src/connection.ts';
import { Requester, RequestError } from '../src/requester.ts';
import { deferred } from './wait.ts';

test('Requester: a responder that goes away with requests pending fails them at the probe, long before the timeout', async () => {
  await using server = await startNatsServer();
  const [client, responder] = await Promise.all([connectNats({ url: server.url, name: 'client' }), connectNats({ url: server.url, name: 'responder' })]);
  try {
    // A responder that takes requests and never answers, like a shard that hangs and is then killed.
    const received = deferred();
    let count = 0;
    const sub = responder.subscribe('svc', {
      callback: () => {
        if (++count === 2) received.resolve();
      },
    });
    await responder.flush();
    const requester = new Requester(client, 30_000, 200);
    const t0 = Date.now();
    const pending = [requester.request('svc', new Uint8Array([1])), requester.request('svc', new Uint8Array([2]))];
    await received.promise;
    sub.unsubscribe();
    await responder.flush();
    const results = await Promise.allSettled(pending);
    const elapsed = Date.now() - t0;
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.reason instanceof RequestError && r.reason.kind === 'no-responders', String(r.reason));
    }
    assert.ok(elapsed < 10_000, `failed after ${elapsed} ms, the timeout is 30 s`);
    requester.close();
  } finally {
    await Promise.all([closeNats(client), closeNats(responder)]);
  }
});

test('Requester: a slow but live responder is probed and still answers; probes do not fail its requests', async () => {
  await using server = await startNatsServer();
  const [client, responder] = await Promise.all([connectNats({ url: server.url, name: 'client' }), connectNats({ url: server.url, name: 'responder' })]);
  try {
    const probes = deferred();
    let held: ((data: Uint8Array) => void) | null = null;
    responder.subscribe('svc', {
      callback: (_err, msg) => {
        if (msg.data.length === 0) {
          // A probe: answered at once (with anything); the real request is still held.
          msg.respond(new Uint8Array(0));
          probes.resolve();
          return;
        }
        held = (data) => msg.respond(data);
      },
    });
    await responder.flush();
    const requester = new Requester(client, 30_000, 100);
    const reply = requester.request('svc', new Uint8Array([7]));
    await probes.promise;
    assert.ok(held !== null, 'the request reached the responder before the probe');
    (held as (data: Uint8Array) => void)(new Uint8Array([42]));
    assert.deepEqual([...(await reply)], [42]);
    requester.close();
  } finally {
    await Promise.all([closeNats(client), closeNats(responder)]);
  }
});

test('Requester: without probes a dead responder\'s request waits for its timeout', async () => {
  await using server = await startNatsServer();
  const [client, responder] = await Promise.all([connectNats({ url: server.url, name: 'client' }), connectNats({ url: server.url, name: 'responder' })]);
  try {
    const received = deferred();
    const sub = responder.subscribe('svc', { callback: () => received.resolve() });
    await responder.flush();
    const requester = new Requester(client, 600, 0);
    const pending = requester.request('svc', new Uint8Array([1]));
    await received.promise;
    sub.unsubscribe();
    await assert.rejects(pending, (err: unknown) => err instanceof RequestError && err.kind === 'timeout');
    requester.close();
  } finally {
    await Promise.all([closeNats(client), closeNats(responder)]);
  }
});
