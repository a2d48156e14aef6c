// The proxy protocol's JSON form (Centrifugo's proxyproto over HTTP): request bodies built from a
// session, and the typed fields read back from a `result`.
//
// Payloads: with `binary_encoding` off (the default) client data travels as embedded JSON
// (`"data":{…}`) and the backend answers with embedded JSON (`data`, `info`) or base64
// (`b64data`, `b64info`, which win when non-empty); with it on, requests carry `b64data`.
// Embedded JSON values are passed on as their exact source text (rawAt), as Centrifugo passes raw
// JSON through: no re-serialisation, so 64-bit integers and key order survive.
import { setMaxListeners } from 'node:events';
import type { SubscribeOverride } from '@rotor/core';
import { Format } from '../hub.ts';
import type { Session } from '../session.ts';
import type { HttpProxy } from './caller.ts';
import { ProxyFailure } from './caller.ts';
import { transportName } from '../emulation/stream.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** Per-connection proxy data, kept only when a proxy is configured (Session.proxy). */
export class ProxyState {
  /** Raw JSON of the connect result's `meta`, sent back when include_connection_meta is on. */
  meta: string | undefined = undefined;
  /** A server-side connection refresh is in flight. */
  refreshing = false;
  /** Aborted when the connection closes: its proxy calls in flight end with it. */
  private closing: AbortController | null = null;

  constructor(
    /** The upgrade request headers some proxy forwards (lower-case names), or null. */
    readonly headers: Readonly<Record<string, string>> | null,
  ) {}

  /** The signal of the connection's end, created on the first proxy call. */
  get closed(): AbortSignal {
    let c = this.closing;
    if (c === null) {
      c = this.closing = new AbortController();
      // One listener per call in flight: a command, the connection refresh and a sub_refresh per
      // subscription (bounded by client.channel_limit), more than Node's default warning level.
      setMaxListeners(0, c.signal);
    }
    return c.signal;
  }

  /** The connection closed: abort its proxy calls. */
  close(): void {
    this.closing?.abort();
  }
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
    transport: transportName(s),
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

/** Where a result object sits in the response text, for the exact source of its JSON payloads. */
export interface Source {
  text: string;
  path: readonly string[];
}

/**
 * The source text of the value at `path` (object keys only) in `text`, which must be valid JSON
 * (JSON.parse accepted it); undefined when absent. A repeated key resolves to its last occurrence,
 * as in JSON.parse.
 */
export function rawAt(text: string, path: readonly string[]): string | undefined {
  let found: string | undefined;
  const skipWs = (i: number): number => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    return i;
  };
  const stringEnd = (i: number): number => {
    // i at the opening quote; returns the index after the closing quote.
    for (i++; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x5c) i++;
      else if (c === 0x22) return i + 1;
    }
    return i;
  };
  // Returns the index after the value starting at i; records matches below `depth`.
  const value = (i: number, depth: number): number => {
    i = skipWs(i);
    const c = text.charCodeAt(i);
    if (c === 0x22) return stringEnd(i);
    if (c === 0x7b || c === 0x5b) {
      const isObject = c === 0x7b;
      i = skipWs(i + 1);
      if (text.charCodeAt(i) === (isObject ? 0x7d : 0x5d)) return i + 1;
      for (;;) {
        let match = false;
        if (isObject) {
          const keyEnd = stringEnd(i);
          match = depth < path.length && JSON.parse(text.slice(i, keyEnd)) === path[depth];
          i = skipWs(keyEnd) + 1; // past ':'
        }
        const start = skipWs(i);
        i = value(start, match ? depth + 1 : Number.MAX_SAFE_INTEGER);
        if (match && depth + 1 === path.length) found = text.slice(start, i);
        i = skipWs(i);
        if (text.charCodeAt(i) === 0x2c) {
          i = skipWs(i + 1);
          continue;
        }
        return i + 1; // past '}' or ']'
      }
    }
    // Number, true, false, null.
    for (; i < text.length; i++) {
      const d = text.charCodeAt(i);
      if (d === 0x2c || d === 0x5d || d === 0x7d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
    }
    return i;
  };
  value(0, 0);
  return found;
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * `b64Key` (strict base64) when non-empty, else `key` (any JSON value) as its source text from
 * `src` (re-serialised without one); undefined when neither.
 */
export function payloadField(r: Record<string, unknown>, key: string, b64Key: string, src?: Source): Uint8Array | undefined {
  const b64 = r[b64Key];
  if (typeof b64 === 'string' && b64 !== '') {
    if (!base64Pattern.test(b64)) throw new ProxyFailure('bad_response', `${b64Key} is not base64`);
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }
  if (b64 !== undefined && b64 !== null && typeof b64 !== 'string') throw new ProxyFailure('bad_response', `${b64Key} is not a string`);
  const v = r[key];
  if (v === undefined || v === null) return undefined;
  const raw = src === undefined ? undefined : rawAt(src.text, [...src.path, key]);
  return encoder.encode(raw ?? JSON.stringify(v));
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
export function metaField(r: Record<string, unknown>, src?: Source): string | undefined {
  const v = r['meta'];
  if (v === undefined || v === null) return undefined;
  return (src === undefined ? undefined : rawAt(src.text, [...src.path, 'meta'])) ?? JSON.stringify(v);
}
