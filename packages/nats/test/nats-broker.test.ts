import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BrokerHandler, ClientInfo, Publication } from '@rotor/core';
import { startNatsServer } from '@rotor/testkit';
import { connectNats } from '../src/connection.ts';
import { NatsBroker } from '../src/nats-broker.ts';
import { Subjects } from '../src/subjects.ts';
import { waitFor } from './wait.ts';

type Ev = { ch: string; kind: string; offset?: number; epoch?: string; client?: string; data?: string };

function recorder(): { events: Ev[]; handler: BrokerHandler } {
  const events: Ev[] = [];
  const dec = new TextDecoder();
  return {
    events,
    handler: {
      onPublication: (ch: string, pub: Publication, epoch: string) => events.push({ ch, kind: 'pub', offset: pub.offset, epoch, data: dec.decode(pub.data) }),
      onJoin: (ch: string, info: ClientInfo) => events.push({ ch, kind: 'join', client: info.client }),
      onLeave: (ch: string, info: ClientInfo) => events.push({ ch, kind: 'leave', client: info.client }),
    },
  };
}

const enc = (s: string) => new TextEncoder().encode(s);

test('NatsBroker over a real nats-server', async (t) => {
  await using server = await startNatsServer();
  const ncA = await connectNats({ url: server.url, name: 'a' });
  const ncB = await connectNats({ url: server.url, name: 'b' });
  await using a = new NatsBroker(ncA, { ownsConnection: true });
  await using b = new NatsBroker(ncB, { ownsConnection: true });
  const rec = recorder();
  b.setHandler(rec.handler);
  a.setHandler(recorder().handler);

  await t.test('subscribe resolves once active; publications arrive in order', async () => {
    await b.subscribe('news');
    for (let i = 1; i <= 2000; i++) a.publish('news', { offset: i, data: enc(`m${i}`) }, 'ep');
    await waitFor(() => rec.events.length >= 2000, '2000 publications');
    assert.deepEqual(rec.events.map((e) => e.offset), Array.from({ length: 2000 }, (_, i) => i + 1));
    assert.ok(rec.events.every((e) => e.ch === 'news' && e.epoch === 'ep'));
    rec.events.length = 0;
  });

  await t.test('join and leave', async () => {
    a.publishJoin('news', { user: 'u', client: 'c1' });
    a.publishLeave('news', { user: 'u', client: 'c1' });
    await waitFor(() => rec.events.length >= 2, 'join+leave');
    assert.deepEqual(rec.events, [{ ch: 'news', kind: 'join', client: 'c1' }, { ch: 'news', kind: 'leave', client: 'c1' }]);
    rec.events.length = 0;
  });

  await t.test('channels with separators and wildcards are isolated', async () => {
    const names = ['a.b', 'a.*', 'a.>', '*', '>', 'a b', 'a', '', 'é'];
    for (const n of names) await b.subscribe(n);
    for (const n of names) a.publish(n, { offset: 0, data: enc(n) }, '');
    await waitFor(() => rec.events.length >= names.length, 'one event per channel');
    // A marker publication proves that nothing else is still in flight.
    a.publish('news', { offset: 0, data: enc('end') }, '');
    await waitFor(() => rec.events.some((e) => e.data === 'end'), 'marker');
    const got = rec.events.filter((e) => e.ch !== 'news');
    assert.deepEqual(got.map((e) => e.ch).sort(), [...names].sort());
    assert.ok(got.every((e) => e.data === e.ch), 'each channel got exactly its own publication');
    for (const n of names) await b.unsubscribe(n);
    rec.events.length = 0;
  });

  await t.test('subscribing twice is idempotent; unsubscribe stops delivery', async () => {
    await b.subscribe('news');
    a.publish('news', { offset: 1, data: enc('once') }, '');
    await waitFor(() => rec.events.length >= 1, 'one event');
    await b.unsubscribe('news');
    a.publish('news', { offset: 2, data: enc('after') }, '');
    // Prove the "after" message had every chance to arrive: a later message on another channel
    // published by the same connection arrives after it would have.
    await b.subscribe('probe');
    a.publish('probe', { offset: 0, data: enc('probe') }, '');
    await waitFor(() => rec.events.some((e) => e.ch === 'probe'), 'probe');
    assert.deepEqual(rec.events.map((e) => e.data), ['once', 'probe']);
    rec.events.length = 0;
    await b.unsubscribe('probe');
  });

  await t.test('malformed envelopes are counted and dropped, later events still flow', async () => {
    await b.subscribe('bad');
    ncA.publish(new Subjects().channel('bad'), new Uint8Array([0xff, 0xff, 0xff]));
    a.publish('bad', { offset: 3, data: enc('ok') }, 'e');
    await waitFor(() => rec.events.length >= 1, 'good event');
    assert.equal(b.malformed, 1);
    assert.equal(rec.events[0]?.data, 'ok');
    rec.events.length = 0;
  });

  await t.test('an over-long channel name is a rejected promise, not a throw', async () => {
    await assert.rejects(b.subscribe('.'.repeat(1000)), /too long/);
  });
});

test('NatsBroker resubscribes after a nats-server restart and delivery resumes', async () => {
  await using server = await startNatsServer();
  const ncA = await connectNats({ url: server.url, name: 'a' });
  const ncB = await connectNats({ url: server.url, name: 'b' });
  await using a = new NatsBroker(ncA, { ownsConnection: true });
  await using b = new NatsBroker(ncB, { ownsConnection: true });
  const rec = recorder();
  b.setHandler(rec.handler);
  await b.subscribe('live');
  a.publish('live', { offset: 1, data: enc('before') }, '');
  await waitFor(() => rec.events.length === 1, 'before restart');

  let reconnects = 0;
  void (async () => {
    for await (const s of ncB.status()) if (s.type === 'reconnect') reconnects++;
  })();
  await server.restart();
  // Keep publishing until the subscriber sees a message again (the publisher's buffered or new
  // messages reach the subscription that nats.js re-created on reconnect).
  let i = 0;
  await waitFor(() => {
    a.publish('live', { offset: 2, data: enc(`after-${i++}`) }, '');
    return rec.events.length > 1;
  }, 'delivery after restart', 20_000);
  assert.ok(reconnects >= 1, 'subscriber reconnected');
  assert.match(rec.events[1]?.data ?? '', /^after-/);
});
