import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Format, MemberState } from './hub.ts';
import { GatewayContext } from './context.ts';
import { Session, SessionState, closeReason } from './session.ts';
import { Subscription, SubFlag, smallSeconds } from './subscription.ts';
import type { Namespace } from '@rotor/core';

const decode = (b: Uint8Array) => new TextDecoder('utf-8', { fatal: true }).decode(b);

test('close reasons are cut to 123 bytes without splitting a character', () => {
  assert.equal(decode(closeReason('short')), 'short');
  assert.equal(closeReason('x'.repeat(500)).length, 123);
  const cut = closeReason('é'.repeat(100));
  assert.ok(cut.length <= 123);
  assert.equal(decode(cut), 'é'.repeat(61));
  const emoji = closeReason('😀'.repeat(40));
  assert.equal(decode(emoji), '😀'.repeat(30));
});

// ---- compact per-connection state ------------------------------------------------------------


/** Only what Session and Subscription touch at construction. */
function fakeGateway(): GatewayContext {
  const hub = { intern: (name: string) => name };
  return new GatewayContext(
    {} as never,
    {} as never,
    {} as never,
    hub as never,
    {} as never,
    {} as never,
    { now: () => 0 },
    {} as never,
    'node',
    '0',
  );
}

const ns = {} as Namespace;

test('a session keeps one subscription without a Map, a Map from two on, and back', () => {
  const s = new Session(fakeGateway(), Format.json);
  const a = new Subscription(s, 'a', ns, 0);
  const b = new Subscription(s, 'b', ns, 0);
  assert.equal(s.subscriptionCount, 0);
  assert.deepEqual(s.subscriptionList(), []);
  s.addSubscription(a);
  assert.equal(s.subscription('a'), a);
  assert.equal(s.subscription('b'), undefined);
  assert.equal(s.subscriptionCount, 1);
  s.addSubscription(b);
  assert.equal(s.subscriptionCount, 2);
  assert.deepEqual(s.subscriptionList(), [a, b]);
  // Removing a subscription that is not the registered one for its channel changes nothing.
  s.removeSubscriptionEntry(new Subscription(s, 'a', ns, 0));
  assert.equal(s.subscription('a'), a);
  s.removeSubscriptionEntry(a);
  assert.equal(s.subscription('a'), undefined);
  assert.equal(s.subscription('b'), b);
  assert.deepEqual(s.subscriptionList(), [b]);
  // Re-adding the same channel replaces it.
  const b2 = new Subscription(s, 'b', ns, 0);
  s.addSubscription(b2);
  assert.equal(s.subscription('b'), b2);
  assert.equal(s.subscriptionCount, 1);
  s.removeSubscriptionEntry(b2);
  assert.equal(s.subscriptionCount, 0);
});

test('packed session and subscription fields read back what was written', () => {
  const s = new Session(fakeGateway(), Format.protobuf);
  assert.equal(s.format, Format.protobuf);
  assert.equal(s.state, SessionState.connecting);
  assert.equal(s.pingBucket, -1);
  assert.equal(s.presenceBucket, -1);
  s.state = SessionState.connected;
  s.busy = true;
  s.pingBucket = 31;
  s.presenceBucket = 0;
  assert.deepEqual([s.format, s.state, s.busy, s.pingBucket, s.presenceBucket], [Format.protobuf, SessionState.connected, true, 31, 0]);
  s.busy = false;
  s.pingBucket = -1;
  s.state = SessionState.closed;
  assert.deepEqual([s.format, s.state, s.busy, s.pingBucket, s.presenceBucket], [Format.protobuf, SessionState.closed, false, -1, 0]);
  s.expireAt = 1_800_000_000_000;
  assert.equal(s.expireAt, 1_800_000_000_000);
  s.expireAt = 0;
  assert.equal(s.expireAt, 0);

  const sub = new Subscription(s, 'c', ns, SubFlag.positioned | SubFlag.presence);
  sub.hubState = MemberState.waiting;
  sub.flags |= SubFlag.established;
  assert.equal(sub.hubState, MemberState.waiting);
  assert.ok(sub.positioned && sub.has(SubFlag.presence) && sub.has(SubFlag.established));
  sub.hubState = MemberState.none;
  assert.ok(sub.has(SubFlag.established));
  assert.equal(sub.hubState, MemberState.none);
  sub.expireAt = 1_700_000_000_500;
  assert.equal(sub.expireAt, 1_700_000_000_500, 'a deadline with milliseconds is kept exactly');
});

test('deadlines become small integers of seconds when they are whole', () => {
  assert.equal(smallSeconds(0), 0);
  assert.equal(smallSeconds(-5), 0);
  assert.equal(smallSeconds(1_800_000_000_000), 1_800_000_000);
  assert.equal(smallSeconds(1_500), 1.5);
  assert.equal(smallSeconds(3e12), 3e9, 'beyond int32: the exact value');
});

test('a user with one connection has no Set; two share one; the entry shrinks back', () => {
  const gw = fakeGateway();
  const a = new Session(gw, Format.json);
  const b = new Session(gw, Format.json);
  a.user = 'alice';
  b.user = ['al', 'ice'].join('');
  gw.addUserSession(a);
  assert.equal(gw.userConnections('alice'), 1);
  assert.ok(!(gw.users.get('alice') instanceof Set));
  gw.addUserSession(b);
  assert.equal(gw.userConnections('alice'), 2);
  assert.deepEqual(gw.userSessions('alice'), [a, b]);
  assert.equal(gw.clients.get(b.client), b);
  gw.removeUserSession(a);
  assert.deepEqual(gw.userSessions('alice'), [b]);
  assert.equal(gw.users.get('alice'), b);
  gw.removeUserSession(b);
  assert.equal(gw.userConnections('alice'), 0);
  assert.equal(gw.users.size, 0);
  assert.equal(gw.clients.size, 0);
});
