// The cluster envelopes of proto/cluster.proto, encoded and decoded by the generated codec
// (@rotor/proto `cluster`), converted here — and only here — to and from the @rotor/core types.
//
// Why the conversion: generated messages have every field optional and their maps have no
// prototype (so a "__proto__" tag is data). Core types have defaults ('' / 0 / empty bytes) and
// plain tag objects; plain objects are rebuilt with defineProperty so that such a key stays data.
// Decoders throw DecodeError (from @rotor/proto) on malformed input and on envelopes that are
// well-formed protobuf but not meaningful (unknown kind, missing epoch …); they skip unknown
// fields, so newer nodes can add fields.
import { cluster, decodeBinary, DecodeError, encodeBinary } from '@rotor/proto';
import type { ClientInfo, ControlCommand, HistoryOptions, NodeInfo, Publication, StreamPosition, SubscribeOverride } from '@rotor/core';

type Wire = typeof cluster;
type WirePublication = cluster.Publication;
type WireClientInfo = cluster.ClientInfo;

const EMPTY = new Uint8Array(0);

// ---------------------------------------------------------------------------------------------
// Shared shapes (core → wire is mostly structural: core objects are valid wire messages)

function clientInfo(m: WireClientInfo | undefined): ClientInfo {
  const info: ClientInfo = { user: m?.user ?? '', client: m?.client ?? '' };
  if (m?.connInfo !== undefined) info.connInfo = m.connInfo;
  if (m?.chanInfo !== undefined) info.chanInfo = m.chanInfo;
  return info;
}

/** A plain object from a prototype-less wire map; "__proto__" stays an ordinary key. */
function plainTags(map: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(map)) Object.defineProperty(out, key, { value: map[key], enumerable: true, writable: true, configurable: true });
  return out;
}

function publication(m: WirePublication): Publication {
  const pub: Publication = { offset: m.offset ?? 0, data: m.data ?? EMPTY };
  if (m.info !== undefined) pub.info = clientInfo(m.info);
  if (m.tags !== undefined) pub.tags = plainTags(m.tags);
  if (m.time !== undefined) pub.time = m.time;
  return pub;
}

function position(m: cluster.StreamPosition | undefined): StreamPosition {
  return { offset: m?.offset ?? 0, epoch: m?.epoch ?? '' };
}

function historyOptions(m: cluster.HistoryOptions): HistoryOptions {
  return { size: m.size ?? 0, ttlMs: m.ttlMs ?? 0, metaTtlMs: m.metaTtlMs ?? 0 };
}

// ---------------------------------------------------------------------------------------------
// ChannelEvent

export const ChannelEventKind = { publication: 0, join: 1, leave: 2 } as const;

export type ChannelEvent =
  | { kind: 'publication'; publication: Publication; epoch: string }
  | { kind: 'join' | 'leave'; info: ClientInfo };

export function encodePublicationEvent(pub: Publication, epoch: string): Uint8Array {
  return encodeBinary<cluster.ChannelEvent>(cluster.ChannelEvent, { kind: ChannelEventKind.publication, publication: pub, epoch });
}

export function encodePresenceEvent(kind: 'join' | 'leave', info: ClientInfo): Uint8Array {
  return encodeBinary<cluster.ChannelEvent>(cluster.ChannelEvent, { kind: ChannelEventKind[kind], info });
}

export function decodeChannelEvent(buf: Uint8Array): ChannelEvent {
  const m = decodeBinary(cluster.ChannelEvent, buf);
  switch (m.kind ?? 0) {
    case ChannelEventKind.publication:
      if (m.publication === undefined) throw new DecodeError('publication event without publication');
      return { kind: 'publication', publication: publication(m.publication), epoch: m.epoch ?? '' };
    case ChannelEventKind.join:
    case ChannelEventKind.leave:
      if (m.info === undefined) throw new DecodeError('join/leave event without info');
      return { kind: m.kind === ChannelEventKind.join ? 'join' : 'leave', info: clientInfo(m.info) };
    default:
      throw new DecodeError(`unknown channel event kind ${m.kind}`);
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
  return encodeBinary<cluster.StoredRecord>(cluster.StoredRecord, rec);
}

export function decodeStoredRecord(buf: Uint8Array): StoredRecord {
  const m = decodeBinary(cluster.StoredRecord, buf);
  const kind = m.kind ?? 0;
  if (kind !== 0 && kind !== 1 && kind !== 2) throw new DecodeError(`unknown record kind ${kind}`);
  if (!m.epoch) throw new DecodeError('record without epoch');
  if (kind === RecordKind.publication && m.publication === undefined) throw new DecodeError('publication record without publication');
  const rec: StoredRecord = { kind, epoch: m.epoch, offset: m.offset ?? 0, time: m.time ?? 0 };
  if (m.publication !== undefined) rec.publication = publication(m.publication);
  if (m.idempotencyKey !== undefined) rec.idempotencyKey = m.idempotencyKey;
  if (m.idempotencyExpiresAt !== undefined) rec.idempotencyExpiresAt = m.idempotencyExpiresAt;
  if (m.ttlMs !== undefined) rec.ttlMs = m.ttlMs;
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
  return encodeBinary<cluster.ShardRequest>(cluster.ShardRequest, req);
}

export function decodeShardRequest(buf: Uint8Array): ShardRequest {
  const m = decodeBinary(cluster.ShardRequest, buf);
  const op = m.op ?? 0;
  if (op < ShardOp.publish || op > ShardOp.presenceStats) throw new DecodeError(`unknown shard op ${op}`);
  const req: ShardRequest = { op: op as ShardOp, channel: m.channel ?? '' };
  if (m.data !== undefined) req.data = m.data;
  if (m.info !== undefined) req.info = clientInfo(m.info);
  if (m.tags !== undefined) req.tags = plainTags(m.tags);
  if (m.history !== undefined) req.history = historyOptions(m.history);
  if (m.idempotencyKey !== undefined) req.idempotencyKey = m.idempotencyKey;
  if (m.idempotencyTtlMs !== undefined) req.idempotencyTtlMs = m.idempotencyTtlMs;
  if (m.since !== undefined) req.since = position(m.since);
  if (m.limit !== undefined) req.limit = m.limit;
  if (m.reverse !== undefined) req.reverse = m.reverse;
  if (m.metaTtlMs !== undefined) req.metaTtlMs = m.metaTtlMs;
  if (m.presence !== undefined) req.presence = m.presence.map((e) => ({ channel: e.channel ?? '', info: clientInfo(e.info), ttlMs: e.ttlMs ?? 0 }));
  if (m.client !== undefined) req.client = m.client;
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
  return encodeBinary<cluster.ShardReply>(cluster.ShardReply, rep);
}

export function decodeShardReply(buf: Uint8Array): ShardReply {
  const m = decodeBinary(cluster.ShardReply, buf);
  const rep: ShardReply = {};
  if (m.error !== undefined) rep.error = { code: m.error.code ?? 0, message: m.error.message ?? '', temporary: m.error.temporary ?? false };
  if (m.publication !== undefined) rep.publication = publication(m.publication);
  if (m.position !== undefined) rep.position = position(m.position);
  if (m.duplicate !== undefined) rep.duplicate = m.duplicate;
  if (m.publications !== undefined) rep.publications = m.publications.map(publication);
  if (m.presence !== undefined) rep.presence = m.presence.map(clientInfo);
  if (m.numClients !== undefined) rep.numClients = m.numClients;
  if (m.numUsers !== undefined) rep.numUsers = m.numUsers;
  return rep;
}

// ---------------------------------------------------------------------------------------------
// Control

const ControlKind = { disconnect: 1, unsubscribe: 2, subscribe: 3, refresh: 4 } as const;
const Toggle: Wire['Toggle'] = cluster.Toggle;

function toggle(v: boolean | undefined): number {
  return v === undefined ? Toggle.TOGGLE_UNSET : v ? Toggle.TOGGLE_ON : Toggle.TOGGLE_OFF;
}

function fromToggle(o: SubscribeOverride, key: keyof SubscribeOverride, v: number | undefined): void {
  if (v === Toggle.TOGGLE_ON) o[key] = true;
  else if (v === Toggle.TOGGLE_OFF) o[key] = false;
}

export function encodeControlCommand(cmd: ControlCommand): Uint8Array {
  const m: cluster.ControlCommand = { kind: ControlKind[cmd.kind], user: cmd.user, client: cmd.client, session: cmd.session };
  switch (cmd.kind) {
    case 'disconnect':
      m.disconnectCode = cmd.disconnect.code;
      m.disconnectReason = cmd.disconnect.reason;
      m.whitelist = cmd.whitelist;
      break;
    case 'unsubscribe':
      m.channel = cmd.channel;
      break;
    case 'subscribe': {
      m.channel = cmd.channel;
      m.expireAt = cmd.expireAt;
      m.info = cmd.info;
      m.data = cmd.data;
      m.recoverSince = cmd.recoverSince;
      const o = cmd.override;
      if (o !== undefined) {
        m.override = {
          presence: toggle(o.presence),
          joinLeave: toggle(o.joinLeave),
          forcePushJoinLeave: toggle(o.forcePushJoinLeave),
          forceRecovery: toggle(o.forceRecovery),
          forcePositioning: toggle(o.forcePositioning),
        };
      }
      break;
    }
    case 'refresh':
      m.expireAt = cmd.expireAt;
      m.info = cmd.info;
      m.expired = cmd.expired;
      break;
  }
  return encodeBinary(cluster.ControlCommand, m);
}

export function decodeControlCommand(buf: Uint8Array): ControlCommand {
  const m = decodeBinary(cluster.ControlCommand, buf);
  const target: { user: string; client?: string; session?: string } = { user: m.user ?? '' };
  if (m.client !== undefined) target.client = m.client;
  if (m.session !== undefined) target.session = m.session;
  switch (m.kind ?? 0) {
    case ControlKind.disconnect: {
      const cmd: ControlCommand = { ...target, kind: 'disconnect', disconnect: { code: m.disconnectCode ?? 0, reason: m.disconnectReason ?? '' } };
      if (m.whitelist !== undefined) cmd.whitelist = m.whitelist;
      return cmd;
    }
    case ControlKind.unsubscribe:
      return { ...target, kind: 'unsubscribe', channel: m.channel ?? '' };
    case ControlKind.subscribe: {
      const cmd: ControlCommand = { ...target, kind: 'subscribe', channel: m.channel ?? '' };
      if (m.expireAt !== undefined) cmd.expireAt = m.expireAt;
      if (m.info !== undefined) cmd.info = m.info;
      if (m.data !== undefined) cmd.data = m.data;
      if (m.recoverSince !== undefined) cmd.recoverSince = position(m.recoverSince);
      if (m.override !== undefined) {
        const o: SubscribeOverride = {};
        fromToggle(o, 'presence', m.override.presence);
        fromToggle(o, 'joinLeave', m.override.joinLeave);
        fromToggle(o, 'forcePushJoinLeave', m.override.forcePushJoinLeave);
        fromToggle(o, 'forceRecovery', m.override.forceRecovery);
        fromToggle(o, 'forcePositioning', m.override.forcePositioning);
        cmd.override = o;
      }
      return cmd;
    }
    case ControlKind.refresh: {
      const cmd: ControlCommand = { ...target, kind: 'refresh', expired: m.expired ?? false };
      if (m.expireAt !== undefined) cmd.expireAt = m.expireAt;
      if (m.info !== undefined) cmd.info = m.info;
      return cmd;
    }
    default:
      throw new DecodeError(`unknown control kind ${m.kind}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Heartbeats and the channels survey

export interface NodeHeartbeat extends NodeInfo {
  expiresInMs: number;
}

export function encodeHeartbeat(hb: NodeHeartbeat): Uint8Array {
  return encodeBinary<cluster.NodeHeartbeat>(cluster.NodeHeartbeat, { ...hb, uptimeSeconds: Math.floor(hb.uptimeSeconds) });
}

export function decodeHeartbeat(buf: Uint8Array): NodeHeartbeat {
  const m = decodeBinary(cluster.NodeHeartbeat, buf);
  if (!m.uid) throw new DecodeError('heartbeat without uid');
  return {
    uid: m.uid,
    name: m.name ?? '',
    version: m.version ?? '',
    numClients: m.numClients ?? 0,
    numUsers: m.numUsers ?? 0,
    numSubs: m.numSubs ?? 0,
    numChannels: m.numChannels ?? 0,
    uptimeSeconds: m.uptimeSeconds ?? 0,
    expiresInMs: m.expiresInMs ?? 0,
  };
}

export function encodeChannelsSurveyReply(uid: string, channels: Map<string, number>): Uint8Array {
  const list: cluster.ChannelCount[] = [];
  for (const [channel, count] of channels) list.push({ channel, count });
  return encodeBinary<cluster.ChannelsSurveyReply>(cluster.ChannelsSurveyReply, { uid, channels: list });
}

export function decodeChannelsSurveyReply(buf: Uint8Array): { uid: string; channels: Map<string, number> } {
  const m = decodeBinary(cluster.ChannelsSurveyReply, buf);
  const channels = new Map<string, number>();
  for (const c of m.channels ?? []) {
    const channel = c.channel ?? '';
    channels.set(channel, (channels.get(channel) ?? 0) + (c.count ?? 0));
  }
  return { uid: m.uid ?? '', channels };
}
