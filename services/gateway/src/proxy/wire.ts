// The proxy protocol's JSON form (Centrifugo's proxyproto over HTTP): request bodies built from a
// session, and the typed fields read back from a `result`.
//
// Payloads: with `binary_encoding` off (the default) client data travels as embedded JSON
// (`"data":{…}`) and the backend answers with embedded JSON (`data`, `info`) or base64
// (`b64data`, `b64info`, which win when non-empty); with it on, requests carry `b64data`.
// Embedded JSON values are re-serialised (JSON.stringify) when read back: formatting is not kept,
// and integers beyond 2^53 lose precision.
import type { SubscribeOverride } from '@rotor/core';
import { Format } from '../hub.ts';
import type { Session } from '../session.ts';
import type { HttpProxy } from './caller.ts';
import { ProxyFailure } from './caller.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** Per-connection proxy data, kept only when a proxy is configured (Session.proxy). */
export class ProxyState {
  /** Raw JSON of the connect result's `meta`, sent back when include_connection_meta is on. */
  meta: string | undefined = undefined;
  /** A server-side connection refresh is in flight. */
  refreshing = false;

  constructor(
    /** The upgrade request headers some proxy forwards (lower-case names), or null. */
    readonly headers: Readonly<Record<string, string>> | null,
  ) {}
}

/** The client payload could not be put into a JSON request (not JSON, binary_encoding off). */
export class PayloadNotJson extends Error {
  constructor() {
    super('client data is not JSON; set binary_encoding on the proxy to forward binary payloads');
    this.name = 'PayloadNotJson';
  }
}

/**
 * A request body: the common fields (client, transport, protocol, encoding), `user` unless it is a
 * connect, `fields`, the client `data` (embedded or b64data) and the connection `meta`.
 */
export function requestBody(s: Session, p: HttpProxy, fields: Record<string, unknown>, data?: Uint8Array, connect = false): string {
  const obj: Record<string, unknown> = {
    client: s.client,
    transport: 'websocket',
    protocol: s.format === Format.protobuf ? 'protobuf' : 'json',
    encoding: p.binary ? 'binary' : 'json',
  };
  if (!connect) obj['user'] = s.user;
  Object.assign(obj, fields);
  let raw = '';
  if (data !== undefined && data.byteLength > 0) {
    if (p.binary) {
      obj['b64data'] = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
    } else {
      raw += `,"data":${jsonText(data)}`;
    }
  }
  const meta = s.proxy?.meta;
  if (!connect && p.includeMeta && meta !== undefined) raw += `,"meta":${meta}`;
  const head = JSON.stringify(obj);
  return raw === '' ? head : `${head.slice(0, -1)}${raw}}`;
}

function jsonText(data: Uint8Array): string {
  let text: string;
  try {
    text = utf8.decode(data);
    JSON.parse(text);
  } catch {
    throw new PayloadNotJson();
  }
  return text;
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** `b64Key` (strict base64) when non-empty, else `key` (any JSON value) re-serialised; undefined when neither. */
export function payloadField(r: Record<string, unknown>, key: string, b64Key: string): Uint8Array | undefined {
  const b64 = r[b64Key];
  if (typeof b64 === 'string' && b64 !== '') {
    if (!base64Pattern.test(b64)) throw new ProxyFailure('bad_response', `${b64Key} is not base64`);
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }
  if (b64 !== undefined && b64 !== null && typeof b64 !== 'string') throw new ProxyFailure('bad_response', `${b64Key} is not a string`);
  const v = r[key];
  if (v === undefined || v === null) return undefined;
  return encoder.encode(JSON.stringify(v));
}

/** Unix seconds (int64: a JSON number or a decimal string, as protobuf's JSON mapping allows); 0 when absent. */
export function secondsField(r: Record<string, unknown>, key: string): number {
  const v = r[key];
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ProxyFailure('bad_response', `${key} is not a Unix timestamp`);
  return n;
}

export function stringField(r: Record<string, unknown>, key: string): string {
  const v = r[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ProxyFailure('bad_response', `${key} is not a string`);
  return v;
}

export function boolField(r: Record<string, unknown>, key: string): boolean {
  const v = r[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new ProxyFailure('bad_response', `${key} is not a boolean`);
  return v;
}

export function stringsField(r: Record<string, unknown>, key: string): string[] {
  const v = r[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ProxyFailure('bad_response', `${key} is not a list of strings`);
  return v as string[];
}

export function objectField(r: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const v = r[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ProxyFailure('bad_response', `${key} is not an object`);
  return v as Record<string, unknown>;
}

const overrideKeys = [
  ['presence', 'presence'],
  ['join_leave', 'joinLeave'],
  ['force_recovery', 'forceRecovery'],
  ['force_positioning', 'forcePositioning'],
  ['force_push_join_leave', 'forcePushJoinLeave'],
] as const;

/** SubscribeOptionOverride: each option a `{"value": bool}` wrapper, absent = namespace default. */
export function overrideField(r: Record<string, unknown>): SubscribeOverride | undefined {
  const o = objectField(r, 'override');
  if (o === undefined) return undefined;
  const out: SubscribeOverride = {};
  for (const [wire, prop] of overrideKeys) {
    const w = objectField(o, wire);
    if (w !== undefined) out[prop] = boolField(w, 'value');
  }
  return out;
}

/** The raw JSON text of a `meta` value, or undefined. */
export function metaField(r: Record<string, unknown>): string | undefined {
  const v = r['meta'];
  return v === undefined || v === null ? undefined : JSON.stringify(v);
}
