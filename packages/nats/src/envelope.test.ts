import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import fc from 'fast-check';
import type { ControlCommand, Publication } from '@rotor/core';
import {
  decodeChannelEvent,
  decodeChannelsSurveyReply,
  decodeControlCommand,
  decodeHeartbeat,
  decodeShardReply,
  decodeShardRequest,
  decodeStoredRecord,
  encodeChannelsSurveyReply,
  encodeControlCommand,
  encodeHeartbeat,
  encodePresenceEvent,
  encodePublicationEvent,
  encodeShardReply,
  encodeShardRequest,
  encodeStoredRecord,
  RecordKind,
  ShardOp,
  type ShardRequest,
} from './envelope.ts';
import { DecodeError } from './wire.ts';

const protoText = readFileSync(new URL('../../../proto/cluster.proto', import.meta.url), 'utf8');
const root = protobuf.parse(protoText, { keepCase: false }).root;
const T = (name: string) => root.lookupType(`rotor.cluster.${name}`);
const toObj = (type: string, buf: Uint8Array) =>
  T(type).toObject(T(type).decode(buf), { longs: Number, bytes: Array, defaults: false, enums: Number });

const pub: Publication = {
  offset: 2 ** 40 + 3,
  data: new TextEncoder().encode('{"a":"é"}'),
  info: { user: 'u1', client: 'c1', connInfo: new Uint8Array([1, 2]), chanInfo: new Uint8Array([3]) },
  tags: { k: 'v', '': 'empty key', __proto__x: 'y' },
  time: 1_700_000_000_123,
};

test('publication event: our bytes decode with protobufjs and back', () => {
  const bytes = encodePublicationEvent(pub, 'ep1');
  const o = toObj('ChannelEvent', bytes);
  assert.equal(o.epoch, 'ep1');
  assert.equal(o.publication.offset, pub.offset);
  assert.equal(o.publication.time, pub.time);
  assert.deepEqual(o.publication.tags, pub.tags);
  assert.equal(o.publication.info.user, 'u1');
  assert.deepEqual(o.publication.data, [...pub.data]);
  const back = decodeChannelEvent(bytes);
  assert.deepEqual(back, { kind: 'publication', publication: pub, epoch: 'ep1' });
  // protobufjs-encoded bytes decode with ours.
  const theirs = T('ChannelEvent').encode(T('ChannelEvent').fromObject({ kind: 0, publication: { offset: 5, data: [9], tags: { x: '1' } }, epoch: 'e' })).finish();
  assert.deepEqual(decodeChannelEvent(theirs), { kind: 'publication', publication: { offset: 5, data: new Uint8Array([9]), tags: { x: '1' } }, epoch: 'e' });
});

test('join/leave events', () => {
  const info = { user: '', client: 'c' };
  assert.deepEqual(decodeChannelEvent(encodePresenceEvent('join', info)), { kind: 'join', info });
  assert.deepEqual(decodeChannelEvent(encodePresenceEvent('leave', info)), { kind: 'leave', info });
  assert.equal(toObj('ChannelEvent', encodePresenceEvent('leave', info)).kind, 2);
});

test('a __proto__ tag stays data', () => {
  const tags = JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string>;
  const ev = decodeChannelEvent(encodePublicationEvent({ offset: 1, data: new Uint8Array(), tags }, ''));
  assert.equal(ev.kind, 'publication');
  if (ev.kind !== 'publication') return;
  assert.equal(Object.getPrototypeOf(ev.publication.tags), Object.prototype);
  assert.deepEqual(Object.keys(ev.publication.tags ?? {}).sort(), ['__proto__', 'a']);
});

test('stored records', () => {
  const rec = { kind: RecordKind.publication, epoch: 'E', offset: 7, time: 123, publication: { ...pub, offset: 7 }, idempotencyKey: 'k', idempotencyExpiresAt: 999, ttlMs: 60000 };
  assert.deepEqual(decodeStoredRecord(encodeStoredRecord(rec)), rec);
  const marker = { kind: RecordKind.removed, epoch: 'E', offset: 9, time: 5 };
  assert.deepEqual(decodeStoredRecord(encodeStoredRecord(marker)), marker);
  assert.equal(toObj('StoredRecord', encodeStoredRecord(marker)).kind, 2);
  assert.throws(() => decodeStoredRecord(encodeStoredRecord({ ...marker, epoch: '' })), DecodeError);
});

test('shard requests and replies', () => {
  const reqs: ShardRequest[] = [
    { op: ShardOp.publish, channel: 'c', data: new Uint8Array([1]), history: { size: 10, ttlMs: 60000, metaTtlMs: 3600000 }, idempotencyKey: 'i', idempotencyTtlMs: 300000, tags: { a: 'b' } },
    { op: ShardOp.read, channel: 'c', since: { offset: 3, epoch: 'x' }, limit: -1, reverse: true, metaTtlMs: 5 },
    { op: ShardOp.presenceAdd, channel: '', presence: [{ channel: 'a', info: { user: 'u', client: 'c' }, ttlMs: 60000 }, { channel: 'b', info: { user: '', client: 'd' }, ttlMs: 1 }] },
    { op: ShardOp.presenceRemove, channel: 'a', client: 'c' },
  ];
  for (const req of reqs) assert.deepEqual(decodeShardRequest(encodeShardRequest(req)), req);
  assert.equal(toObj('ShardRequest', encodeShardRequest(reqs[1]!)).limit, -1);
  const rep = { error: { code: 100, message: 'history shard unavailable', temporary: true } };
  assert.deepEqual(decodeShardReply(encodeShardReply(rep)), rep);
  const rep2 = { publications: [pub, { offset: 1, data: new Uint8Array([0]) }], position: { offset: 4, epoch: 'e' }, presence: [{ user: 'u', client: 'c' }], numClients: 3, numUsers: 2, duplicate: true };
  assert.deepEqual(decodeShardReply(encodeShardReply(rep2)), rep2);
  assert.deepEqual(toObj('ShardReply', encodeShardReply(rep2)).numUsers, 2);
  assert.throws(() => decodeShardRequest(new Uint8Array([8, 99])), DecodeError);
});

test('control commands round-trip and match the .proto', () => {
  const cmds: ControlCommand[] = [
    { kind: 'disconnect', user: 'u', disconnect: { code: 3503, reason: 'force disconnect' }, whitelist: ['a', ''] },
    { kind: 'unsubscribe', user: 'u', client: 'c', channel: 'ch' },
    { kind: 'subscribe', user: 'u', session: 's', channel: 'ch', expireAt: 10, info: new Uint8Array([1]), data: new Uint8Array([2]), recoverSince: { offset: 1, epoch: 'e' }, override: { presence: false, forceRecovery: true } },
    { kind: 'refresh', user: 'u', expired: true, expireAt: 5 },
  ];
  for (const cmd of cmds) assert.deepEqual(decodeControlCommand(encodeControlCommand(cmd)), cmd);
  const o = toObj('ControlCommand', encodeControlCommand(cmds[2]!));
  assert.equal(o.override.presence, 1, 'TOGGLE_OFF');
  assert.equal(o.override.forceRecovery, 2, 'TOGGLE_ON');
  assert.equal(o.override.joinLeave, undefined);
  assert.equal(o.recoverSince.epoch, 'e');
});

test('heartbeat and survey', () => {
  const hb = { uid: 'n1', name: 'gw-1', version: '0.1.0', numClients: 5, numUsers: 4, numSubs: 9, numChannels: 3, uptimeSeconds: 12, expiresInMs: 15000 };
  assert.deepEqual(decodeHeartbeat(encodeHeartbeat(hb)), hb);
  assert.equal(toObj('NodeHeartbeat', encodeHeartbeat(hb)).numSubs, 9);
  const m = new Map([['a', 2], ['b.c', 1]]);
  assert.deepEqual(decodeChannelsSurveyReply(encodeChannelsSurveyReply('n1', m)), { uid: 'n1', channels: m });
});

test('fuzz: decoders never throw anything but DecodeError', () => {
  const decoders = [decodeChannelEvent, decodeStoredRecord, decodeShardRequest, decodeShardReply, decodeControlCommand, decodeHeartbeat, decodeChannelsSurveyReply];
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      for (const d of decoders) {
        try {
          d(bytes);
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
        }
      }
      return true;
    }),
    { numRuns: 5000 },
  );
  // Truncations of a valid message.
  const full = encodePublicationEvent(pub, 'ep');
  for (let i = 0; i < full.length; i++) {
    try {
      decodeChannelEvent(full.subarray(0, i));
    } catch (err) {
      assert.ok(err instanceof DecodeError, String(err));
    }
  }
});
