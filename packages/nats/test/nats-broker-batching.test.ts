// NatsBroker hands one turn's events to nats.js together (see the header of nats-broker.ts): the
// order of publications and presence events is kept, what nats.js would refuse still throws at
// once, close() sends what was accepted, and a turn whose publishes each ran in their own microtask
// checkpoint (as uWebSockets.js message callbacks do) costs one socket write, not one per event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BrokerHandler, ClientInfo, Publication } from '@rotor/core';
import { startNatsServer } from '@rotor/testkit';
import { connectNats } from '../src/connection.ts';
import { NatsBroker } from '../src/nats-broker.ts';
import { waitFor } from './wait.ts';

const enc = (s: string) => new TextEncoder().encode(s);

function recorder(): { events: string[]; handler: BrokerHandler } {
  const events: string[] = [];
  const dec = new TextDecoder();
  return {
    events,
    handler: {
      onPublication: (ch: string, pub: Publication) => events.push(`${ch}:${dec.decode(pub.data)}`),
      onJoin: (ch: string, info: ClientInfo) => events.push(`${ch}:join:${info.client}`),
      onLeave: (ch: string, info: ClientInfo) => events.push(`${ch}:leave:${info.client}`),
    },
  };
}

/** Counts the chunks nats.js writes to its socket (its transport's `send`; observation only). */
function countWrites(nc: object): { writes: number } {
  const transport = (nc as { protocol: { transport: { send(frame: Uint8Array): void } } }).protocol.transport;
  const counter = { writes: 0 };
  const send = transport.send.bind(transport);
  transport.send = (frame: Uint8Array) => {
    counter.writes++;
    send(frame);
  };
  return counter;
}

test('NatsBroker: one turn of events is one socket write, in publish order; refusals stay synchronous; close sends the rest', async () => {
  await using server = await startNatsServer();
  const ncA = await connectNats({ url: server.url, name: 'a' });
  const ncB = await connectNats({ url: server.url, name: 'b' });
  const a = new NatsBroker(ncA, { ownsConnection: true });
  await using b = new NatsBroker(ncB, { ownsConnection: true });
  const rec = recorder();
  b.setHandler(rec.handler);
  await b.subscribe('x');
  await b.subscribe('y');

  const writes = countWrites(ncA);
  const expected: string[] = [];
  // 200 events, each from its own microtask checkpoint (as uWS message callbacks run them).
  for (let i = 0; i < 200; i++) {
    await null;
    const ch = i % 2 === 0 ? 'x' : 'y';
    if (i % 50 === 7) {
      a.publishJoin(ch, { user: 'u', client: `c${i}` });
      expected.push(`${ch}:join:c${i}`);
    } else if (i % 50 === 9) {
      a.publishLeave(ch, { user: 'u', client: `c${i}` });
      expected.push(`${ch}:leave:c${i}`);
    } else {
      a.publish(ch, { offset: 0, data: enc(`m${i}`) }, '');
      expected.push(`${ch}:m${i}`);
    }
  }
  assert.equal(writes.writes, 0, 'nothing is written before the turn ends');
  await waitFor(() => rec.events.length === expected.length, 'every event');
  assert.deepEqual(rec.events, expected, 'publish order across channels and event kinds');
  assert.equal(writes.writes, 1, 'one write for the turn');

  // Over the server's max_payload: refused at once, as nats.js itself would.
  const max = ncA.info?.max_payload ?? 0;
  assert.ok(max > 0);
  assert.throws(() => a.publish('x', { offset: 0, data: new Uint8Array(max + 1) }, ''), /max_payload/);

  // Accepted, then closed in the same turn: still delivered.
  rec.events.length = 0;
  a.publish('x', { offset: 0, data: enc('last') }, '');
  await a.close();
  assert.throws(() => a.publish('x', { offset: 0, data: enc('late') }, ''), /closed/);
  await waitFor(() => rec.events.length === 1, 'the publication accepted before close');
  assert.deepEqual(rec.events, ['x:last']);
});

test('NatsBroker: a publish on a closed connection throws at once', async () => {
  await using server = await startNatsServer();
  const nc = await connectNats({ url: server.url, name: 'closed' });
  const broker = new NatsBroker(nc);
  await nc.close();
  assert.throws(() => broker.publish('x', { offset: 0, data: enc('m') }, ''), /closed/i);
  await broker.close();
});
