// Encoders/decoders of the cluster envelopes in proto/cluster.proto (field numbers must match it;
// envelope.test.ts cross-checks against the .proto with protobufjs). Decoders throw DecodeError on
// malformed input and skip unknown fields.
import type { ClientInfo, ControlCommand, HistoryOptions, NodeInfo, Publication, StreamPosition, SubscribeOverride } from '@rotor/core';
import { DecodeError, Reader, WIRE_LEN, WIRE_VARINT, Writer } from './wire.ts';

const shared = new Writer(4096);

// ---------------------------------------------------------------------------------------------
// Shared shapes

function writeClientInfo(w: Writer, field: number, info: ClientInfo): void {
  const m = w.begin(field);
  w.string(1, info.user);
  w.string(2, info.client);
  w.bytes(3, info.connInfo);
  w.bytes(4, info.chanInfo);
  w.end(m);
}

function readClientInfo(r: Reader): ClientInfo {
  const info: ClientInfo = { user: '', client: '' };
  while (!r.done()) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | WIRE_LEN:
        info.user = r.string();
        break;
      case (2 << 3) | WIRE_LEN:
        info.client = r.string();
        break;
      case (3 << 3) | WIRE_LEN:
        info.connInfo = r.bytes();
        break;
      case (4 << 3) | WIRE_LEN:
        info.chanInfo = r.bytes();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return info;
}

function writeTags(w: Writer, field: number, tags: Record<string, string> | undefined): void {
  if (tags === undefined) return;
  for (const key of Object.keys(tags)) {
    const m = w.begin(field);
    w.string(1, key);
    w.string(2, tags[key]);
    w.end(m);
  }
}

function readTagEntry(r: Reader, into: Record<string, string>): void {
  let key = '';
  let value = '';
  while (!r.done()) {
    const tag = r.varint();
    if (tag === ((1 << 3) | WIRE_LEN)) key = r.string();
    else if (tag === ((2 << 3) | WIRE_LEN)) value = r.string();
    else r.skip(tag & 7);
  }
  // defineProperty: a '__proto__' tag is data, not a prototype change.
  Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
}

function writePublication(w: Writer, field: number, pub: Publication): void {
  const m = w.begin(field);
  w.uint(1, pub.offset);
  w.bytes(2, pub.data);
  if (pub.info !== undefined) writeClientInfo(w, 3, pub.info);
  writeTags(w, 4, pub.tags);
  w.uint(5, pub.time ?? 0);
  w.end(m);
}

const EMPTY = new Uint8Array(0);

function readPublication(r: Reader): Publication {
  const pub: Publication = { offset: 0, data: EMPTY };
  while (!r.done()) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | WIRE_VARINT:
        pub.offset = r.varint();
        break;
      case (2 << 3) | WIRE_LEN:
        pub.data = r.bytes();
        break;
      case (3 << 3) | WIRE_LEN:
        pub.info = readClientInfo(r.sub());
        break;
      case (4 << 3) | WIRE_LEN:
        pub.tags ??= {};
        readTagEntry(r.sub(), pub.tags);
        break;
      case (5 << 3) | WIRE_VARINT:
        pub.time = r.varint();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return pub;
}

function writePosition(w: Writer, field: number, pos: StreamPosition): void {
  const m = w.begin(field);
  w.uint(1, pos.offset);
  w.string(2, pos.epoch);
  w.end(m);
}

function readPosition(r: Reader): StreamPosition {
  const pos: StreamPosition = { offset: 0, epoch: '' };
  while (!r.done()) {
    const tag = r.varint();
    if (tag === ((1 << 3) | WIRE_VARINT)) pos.offset = r.varint();
    else if (tag === ((2 << 3) | WIRE_LEN)) pos.epoch = r.string();
    else r.skip(tag & 7);
  }
  return pos;
}

function writeHistoryOptions(w: Writer, field: number, h: HistoryOptions): void {
  const m = w.begin(field);
  w.uint(1, h.size);
  w.uint(2, h.ttlMs);
  w.uint(3, h.metaTtlMs);
  w.end(m);
}

function readHistoryOptions(r: Reader): HistoryOptions {
  const h: HistoryOptions = { size: 0, ttlMs: 0, metaTtlMs: 0 };
  while (!r.done()) {
    const tag = r.varint();
    if (tag === ((1 << 3) | WIRE_VARINT)) h.size = r.varint();
    else if (tag === ((2 << 3) | WIRE_VARINT)) h.ttlMs = r.varint();
    else if (tag === ((3 << 3) | WIRE_VARINT)) h.metaTtlMs = r.varint();
    else r.skip(tag & 7);
  }
  return h;
}

// ---------------------------------------------------------------------------------------------
// ChannelEvent

export const ChannelEventKind = { publication: 0, join: 1, leave: 2 } as const;

export type ChannelEvent =
  | { kind: 'publication'; publication: Publication; epoch: string }
  | { kind: 'join' | 'leave'; info: ClientInfo };

export function encodePublicationEvent(pub: Publication, epoch: string): Uint8Array {
  const w = shared.reset();
  w.uint(1, ChannelEventKind.publication);
  writePublication(w, 2, pub);
  w.string(3, epoch);
  return w.finish();
}

export function encodePresenceEvent(kind: 'join' | 'leave', info: ClientInfo): Uint8Array {
  const w = shared.reset();
  w.uint(1, ChannelEventKind[kind]);
  writeClientInfo(w, 4, info);
  return w.finish();
}

export function decodeChannelEvent(buf: Uint8Array): ChannelEvent {
  const r = new Reader(buf);
  let kind = 0;
  let pub: Publication | undefined;
  let epoch = '';
  let info: ClientInfo | undefined;
  while (!r.done()) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | WIRE_VARINT:
        kind = r.varint();
        break;
      case (2 << 3) | WIRE_LEN:
        pub = readPublication(r.sub());
        break;
      case (3 << 3) | WIRE_LEN:
        epoch = r.string();
        break;
      case (4 << 3) | WIRE_LEN:
        info = readClientInfo(r.sub());
        break;
      default:
        r.skip(tag & 7);
    }
  }
  switch (kind) {
    case ChannelEventKind.publication:
      if (pub === undefined) throw new DecodeError('publication event without publication');
      return { kind: 'publication', publication: pub, epoch };
    case ChannelEventKind.join:
    case ChannelEventKind.leave:
      if (info === undefined) throw new DecodeError('join/leave event without info');
      return { kind: kind === ChannelEventKind.join ? 'join' : 'leave', info };
    default:
      throw new DecodeError(`unknown channel event kind ${kind}`);
  }
}

// ---------------------------------------------------------------------------------------------
// StoredRecord

export const RecordKind = { publication: 0, epoch: 1, removed: 2 } as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

export interface StoredRecord {
  kind: RecordKind;
  epoch: string;
  offset: number;
  time: number;
  publication?: Publication;
  idempotencyKey?: string;
  idempotencyExpiresAt?: number;
  ttlMs?: number;
}

export function encodeStoredRecord(rec: StoredRecord): Uint8Array {
  const w = shared.reset();
  w.uint(1, rec.kind);
  w.string(2, rec.epoch);
  w.uint(3, rec.offset);
  w.uint(4, rec.time);
  if (rec.publication !== undefined) writePublication(w, 5, rec.publication);
  w.string(6, rec.idempotencyKey);
  w.uint(7, rec.idempotencyExpiresAt ?? 0);
  w.uint(8, rec.ttlMs ?? 0);
  return w.finish();
}

export function decodeStoredRecord(buf: Uint8Array): StoredRecord {
  const r = new Reader(buf);
  const rec: StoredRecord = { kind: RecordKind.publication, epoch: '', offset: 0, time: 0 };
  while (!r.done()) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | WIRE_VARINT: {
        const k = r.varint();
        if (k !== 0 && k !== 1 && k !== 2) throw new DecodeError(`unknown record kind ${k}`);
        rec.kind = k;
        break;
      }
      case (2 << 3) | WIRE_LEN:
        rec.epoch = r.string();
        break;
      case (3 << 3) | WIRE_VARINT:
        rec.offset = r.varint();
        break;
      case (4 << 3) | WIRE_VARINT:
        rec.time = r.varint();
        break;
      case (5 << 3) | WIRE_LEN:
        rec.publication = readPublication(r.sub());
        break;
      case (6 << 3) | WIRE_LEN:
        rec.idempotencyKey = r.string();
        break;
      case (7 << 3) | WIRE_VARINT:
        rec.idempotencyExpiresAt = r.varint();
        break;
      case (8 << 3) | WIRE_VARINT:
        rec.ttlMs = r.varint();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (rec.epoch === '') throw new DecodeError('record without epoch');
  if (rec.kind === RecordKind.publication && rec.publication === undefined) {
    throw new DecodeError('publication record without publication');
  }
  return rec;
}

// ---------------------------------------------------------------------------------------------
// ShardRequest / ShardReply

export const ShardOp = {
  publish: 1,
  append: 2,
  read: 3,
  remove: 4,
  presenceAdd: 5,
  presenceRemove: 6,
  presenceGet: 7,
  presenceStats: 8,
} as const;
export type ShardOp = (typeof ShardOp)[keyof typeof ShardOp];

export interface PresenceEntry {
  channel: string;
  info: ClientInfo;
  ttlMs: number;
}

export interface ShardRequest {
  op: ShardOp;
  channel: string;
  data?: Uint8Array;
  info?: ClientInfo;
  tags?: Record<string, string>;
  history?: HistoryOptions;
  idempotencyKey?: string;
  idempotencyTtlMs?: number;
  since?: StreamPosition;
  limit?: number;
  reverse?: boolean;
  metaTtlMs?: number;
  presence?: PresenceEntry[];
  client?: string;
}

export function encodeShardRequest(req: ShardRequest): Uint8Array {
  const w = shared.reset();
  w.uint(1, req.op);
  w.string(2, req.channel);
  w.bytes(3, req.data);
  if (req.info !== undefined) writeClientInfo(w, 4, req.info);
  writeTags(w, 5, req.tags);
  if (req.history !== undefined) writeHistoryOptions(w, 6, req.history);
  w.string(7, req.idempotencyKey);
  w.uint(8, req.idempotencyTtlMs ?? 0);
  if (req.since !== undefined) writePosition(w, 9, req.since);
  w.sint(10, req.limit ?? 0);
  w.bool(11, req.reverse ?? false);
  w.uint(12, req.metaTtlMs ?? 0);
  if (req.presence !== undefined) {
    for (const e of req.presence) {
      const m = w.begin(13);
      w.string(1, e.channel);
      writeClientInfo(w, 2, e.info);
      w.uint(3, e.ttlMs);
      w.end(m);
    }
  }
  w.string(14, req.client);
  return w.finish();
}

function readPresenceEntry(r: Reader): PresenceEntry {
  const e: PresenceEntry = { channel: '', info: { user: '', client: '' }, ttlMs: 0 };
  while (!r.done()) {
    const tag = r.varint();
    if (tag === ((1 << 3) | WIRE_LEN)) e.channel = r.string();
    else if (tag === ((2 << 3) | WIRE_LEN)) e.info = readClientInfo(r.sub());
    else if (tag === ((3 << 3) | WIRE_VARINT)) e.ttlMs = r.varint();
    else r.skip(tag & 7);
  }
  return e;
}

export function decodeShardRequest(buf: Uint8Array): ShardRequest {
  const r = new Reader(buf);
  let op = 0;
  const req: ShardRequest = { op: ShardOp.publish, channel: '' };
  while (!r.done()) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | WIRE_VARINT:
        op = r.varint();
        break;
      case (2 << 3) | WIRE_LEN:
        req.channel = r.string();
        break;
      case (3 << 3) | WIRE_LEN:
        req.data = r.bytes();
        break;
      case (4 << 3) | WIRE_LEN:
        req.info = readClientInfo(r.sub());
        break;
      case (5 << 3) | WIRE_LEN:
        req.tags ??= {};
        readTagEntry(r.sub(), req.tags);
        break;
      case (6 << 3) | WIRE_LEN:
        req.history = readHistoryOptions(r.sub());
        break;
      case (7 << 3) | WIRE_LEN:
        req.idempotencyKey = r.string();
        break;
      case (8 << 3) | WIRE_VARINT:
        req.idempotencyTtlMs = r.varint();
        break;
      case (9 << 3) | WIRE_LEN:
        req.since = readPosition(r.sub());
        break;
      case (10 << 3) | WIRE_VARINT:
        req.limit = r.sint();
        break;
      case (11 << 3) | WIRE_VARINT:
        req.reverse = r.bool();
        break;
      case (12 << 3) | WIRE_VARINT:
        req.metaTtlMs = r.varint();
        break;
      case (13 << 3) | WIRE_LEN:
        (req.presence ??= []).push(readPresenceEntry(r.sub()));
        break;
      case (14 << 3) | WIRE_LEN:
        req.client = r.string();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (op < ShardOp.publish || op > ShardOp.presenceStats) throw new DecodeError(`unknown shard op ${op}`);
  req.op = op as ShardOp;
  return req;
}

export interface ShardError {
  code: number;
  message: string;
  temporary: boolean;
}

export interface ShardReply {
  error?: ShardError;
  publication?: Publication;
  position?: StreamPosition;
  duplicate?: boolean;
  publications?: Publication[];
  presence?: ClientInfo[];
  numClients?: number;
  numUsers?: number;
}

export function encodeShardReply(rep: ShardReply): Uint8Array {
  const w = shared.reset();
  if (rep.error !== undefined) {
    const m = w.begin(1);
    w.uint(1, rep.error.code);
    w.string(2, rep.error.message);
    w.bool(3, rep.error.temporary);
    w.end(m);
  }
  if (rep.publication !== undefined) writePublication(w, 2, rep.publication);
  if (rep.position !== undefined) writePosition(w, 3, rep.position);
  w.bool(4, rep.duplicate ?? false);
  if (rep.publications !== undefined) for (const p of rep.publications) writePublication(w, 5, p);
  if (rep.presence !== undefined) for (const i of rep.presence) writeClientInfo(w, 6, i);
  w.uint(7, rep.numClients ?? 0);
  w.uint(8, rep.numUsers ?? 0);
  return w.finish();
}

export function decodeShardReply(buf: Uint8Array): ShardReply {
  const r = new Reader(buf);
  const rep: ShardReply = {};
  while (!r.done()) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | WIRE_LEN: {
        const e: ShardError = { code: 0, message: '', temporary: false };
        const s = r.sub();
        while (!s.done()) {
          const t = s.varint();
          if (t === ((1 << 3) | WIRE_VARINT)) e.code = s.varint();
          else if (t === ((2 << 3) | WIRE_LEN)) e.message = s.string();
          else if (t === ((3 << 3) | WIRE_VARINT)) e.temporary = s.bool();
          else s.skip(t & 7);
        }
        rep.error = e;
        break;
      }
      case (2 << 3) | WIRE_LEN:
        rep.publication = readPublication(r.sub());
        break;
      case (3 << 3) | WIRE_LEN:
        rep.position = readPosition(r.sub());
        break;
      case (4 << 3) | WIRE_VARINT:
        rep.duplicate = r.bool();
        break;
      case (5 << 3) | WIRE_LEN:
        (rep.publications ??= []).push(readPublication(r.sub()));
        break;
      case (6 << 3) | WIRE_LEN:
        (rep.presence ??= []).push(readClientInfo(r.sub()));
        break;
      case (7 << 3) | WIRE_VARINT:
        rep.numClients = r.varint();
        break;
      case (8 << 3) | WIRE_VARINT:
        rep.numUsers = r.varint();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return rep;
}

// ---------------------------------------------------------------------------------------------
// Control

const ControlKind = { disconnect: 1, unsubscribe: 2, subscribe: 3, refresh: 4 } as const;

export function encodeControlCommand(cmd: ControlCommand): Uint8Array {
  const w = shared.reset();
  w.uint(1, ControlKind[cmd.kind]);
  w.string(2, cmd.user);
  w.string(3, cmd.client);
  w.string(4, cmd.session);
  switch (cmd.kind) {
    case 'disconnect':
      w.uint(5, cmd.disconnect.code);
      w.string(6, cmd.disconnect.reason);
      if (cmd.whitelist !== undefined) for (const c of cmd.whitelist) w.stringElement(7, c);
      break;
    case 'unsubscribe':
      w.string(8, cmd.channel);
      break;
    case 'subscribe':
      w.string(8, cmd.channel);
      w.uint(9, cmd.expireAt ?? 0);
      w.bytes(10, cmd.info);
      w.bytes(11, cmd.data);
      if (cmd.recoverSince !== undefined) writePosition(w, 12, cmd.recoverSince);
      if (cmd.override !== undefined) {
        const m = w.begin(13);
        w.toggle(1, cmd.override.presence);
        w.toggle(2, cmd.override.joinLeave);
        w.toggle(3, cmd.override.forcePushJoinLeave);
        w.toggle(4, cmd.override.forceRecovery);
        w.toggle(5, cmd.override.forcePositioning);
        w.end(m);
      }
      break;
    case 'refresh':
      w.uint(9, cmd.expireAt ?? 0);
      w.bytes(10, cmd.info);
      w.bool(14, cmd.expired);
      break;
  }
  return w.finish();
}

function set(o: SubscribeOverride, key: keyof SubscribeOverride, v: boolean | undefined): void {
  if (v === undefined) delete o[key];
  else o[key] = v;
}

function readOverride(r: Reader): SubscribeOverride {
  const o: SubscribeOverride = {};
  while (!r.done()) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | WIRE_VARINT:
        set(o, 'presence', r.toggle());
        break;
      case (2 << 3) | WIRE_VARINT:
        set(o, 'joinLeave', r.toggle());
        break;
      case (3 << 3) | WIRE_VARINT:
        set(o, 'forcePushJoinLeave', r.toggle());
        break;
      case (4 << 3) | WIRE_VARINT:
        set(o, 'forceRecovery', r.toggle());
        break;
      case (5 << 3) | WIRE_VARINT:
        set(o, 'forcePositioning', r.toggle());
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return o;
}

export function decodeControlCommand(buf: Uint8Array): ControlCommand {
  const r = new Reader(buf);
  let kind = 0;
  let user = '';
  let client: string | undefined;
  let session: string | undefined;
  let code = 0;
  let reason = '';
  let whitelist: string[] | undefined;
  let channel = '';
  let expireAt: number | undefined;
  let info: Uint8Array | undefined;
  let data: Uint8Array | undefined;
  let recoverSince: StreamPosition | undefined;
  let override: SubscribeOverride | undefined;
  let expired = false;
  while (!r.done()) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | WIRE_VARINT:
        kind = r.varint();
        break;
      case (2 << 3) | WIRE_LEN:
        user = r.string();
        break;
      case (3 << 3) | WIRE_LEN:
        client = r.string();
        break;
      case (4 << 3) | WIRE_LEN:
        session = r.string();
        break;
      case (5 << 3) | WIRE_VARINT:
        code = r.varint();
        break;
      case (6 << 3) | WIRE_LEN:
        reason = r.string();
        break;
      case (7 << 3) | WIRE_LEN:
        (whitelist ??= []).push(r.string());
        break;
      case (8 << 3) | WIRE_LEN:
        channel = r.string();
        break;
      case (9 << 3) | WIRE_VARINT:
        expireAt = r.varint();
        break;
      case (10 << 3) | WIRE_LEN:
        info = r.bytes();
        break;
      case (11 << 3) | WIRE_LEN:
        data = r.bytes();
        break;
      case (12 << 3) | WIRE_LEN:
        recoverSince = readPosition(r.sub());
        break;
      case (13 << 3) | WIRE_LEN:
        override = readOverride(r.sub());
        break;
      case (14 << 3) | WIRE_VARINT:
        expired = r.bool();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  const target: { user: string; client?: string; session?: string } = { user };
  if (client !== undefined) target.client = client;
  if (session !== undefined) target.session = session;
  switch (kind) {
    case ControlKind.disconnect: {
      const cmd: ControlCommand = { ...target, kind: 'disconnect', disconnect: { code, reason } };
      if (whitelist !== undefined) cmd.whitelist = whitelist;
      return cmd;
    }
    case ControlKind.unsubscribe:
      return { ...target, kind: 'unsubscribe', channel };
    case ControlKind.subscribe: {
      const cmd: ControlCommand = { ...target, kind: 'subscribe', channel };
      if (expireAt !== undefined) cmd.expireAt = expireAt;
      if (info !== undefined) cmd.info = info;
      if (data !== undefined) cmd.data = data;
      if (recoverSince !== undefined) cmd.recoverSince = recoverSince;
      if (override !== undefined) cmd.override = override;
      return cmd;
    }
    case ControlKind.refresh: {
      const cmd: ControlCommand = { ...target, kind: 'refresh', expired };
      if (expireAt !== undefined) cmd.expireAt = expireAt;
      if (info !== undefined) cmd.info = info;
      return cmd;
    }
    default:
      throw new DecodeError(`unknown control kind ${kind}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Heartbeats and the channels survey

export interface NodeHeartbeat extends NodeInfo {
  expiresInMs: number;
}

export function encodeHeartbeat(hb: NodeHeartbeat): Uint8Array {
  const w = shared.reset();
  w.string(1, hb.uid);
  w.string(2, hb.name);
  w.string(3, hb.version);
  w.uint(4, hb.numClients);
  w.uint(5, hb.numUsers);
  w.uint(6, hb.numSubs);
  w.uint(7, hb.numChannels);
  w.uint(8, Math.floor(hb.uptimeSeconds));
  w.uint(9, hb.expiresInMs);
  return w.finish();
}

export function decodeHeartbeat(buf: Uint8Array): NodeHeartbeat {
  const r = new Reader(buf);
  const hb: NodeHeartbeat = {
    uid: '',
    name: '',
    version: '',
    numClients: 0,
    numUsers: 0,
    numSubs: 0,
    numChannels: 0,
    uptimeSeconds: 0,
    expiresInMs: 0,
  };
  while (!r.done()) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | WIRE_LEN:
        hb.uid = r.string();
        break;
      case (2 << 3) | WIRE_LEN:
        hb.name = r.string();
        break;
      case (3 << 3) | WIRE_LEN:
        hb.version = r.string();
        break;
      case (4 << 3) | WIRE_VARINT:
        hb.numClients = r.varint();
        break;
      case (5 << 3) | WIRE_VARINT:
        hb.numUsers = r.varint();
        break;
      case (6 << 3) | WIRE_VARINT:
        hb.numSubs = r.varint();
        break;
      case (7 << 3) | WIRE_VARINT:
        hb.numChannels = r.varint();
        break;
      case (8 << 3) | WIRE_VARINT:
        hb.uptimeSeconds = r.varint();
        break;
      case (9 << 3) | WIRE_VARINT:
        hb.expiresInMs = r.varint();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (hb.uid === '') throw new DecodeError('heartbeat without uid');
  return hb;
}

export function encodeChannelsSurveyReply(uid: string, channels: Map<string, number>): Uint8Array {
  const w = shared.reset();
  w.string(1, uid);
  for (const [channel, count] of channels) {
    const m = w.begin(2);
    w.string(1, channel);
    w.uint(2, count);
    w.end(m);
  }
  return w.finish();
}

export function decodeChannelsSurveyReply(buf: Uint8Array): { uid: string; channels: Map<string, number> } {
  const r = new Reader(buf);
  let uid = '';
  const channels = new Map<string, number>();
  while (!r.done()) {
    const tag = r.varint();
    if (tag === ((1 << 3) | WIRE_LEN)) {
      uid = r.string();
    } else if (tag === ((2 << 3) | WIRE_LEN)) {
      const s = r.sub();
      let channel = '';
      let count = 0;
      while (!s.done()) {
        const t = s.varint();
        if (t === ((1 << 3) | WIRE_LEN)) channel = s.string();
        else if (t === ((2 << 3) | WIRE_VARINT)) count = s.varint();
        else s.skip(t & 7);
      }
      channels.set(channel, (channels.get(channel) ?? 0) + count);
    } else {
      r.skip(tag & 7);
    }
  }
  return { uid, channels };
}
