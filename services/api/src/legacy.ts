// The legacy HTTP API body (PROTOCOL.md §7.1): one or more `\n`-separated JSON objects
// `{"id":…,"method":"publish","params":{…}}`. `method` is a case-insensitive name or the integer
// of the old method enum; `params` is the method's request, decoded later by the generated codec
// straight from the body bytes, so raw JSON payloads inside it are passed on byte for byte.
//
// Each line is validated as JSON first (proto's validator), so the key scanner below only walks
// text that is known to be well-formed.
import { isJson } from '@rotor/proto';
import { METHODS_BY_LEGACY_ID, METHODS_BY_NAME } from './methods.ts';
import type { MethodBinding } from './methods.ts';

export interface LegacyCommand {
  /** The id's JSON text (a non-negative integer), echoed in the reply; null when absent or 0. */
  readonly id: string | null;
  /** null: unknown method (answered with error 104 on that line). */
  readonly method: MethodBinding | null;
  /** Bounds of the `params` value in the body; start === end when absent. */
  readonly paramsStart: number;
  readonly paramsEnd: number;
}

export type LegacyParse = { ok: true; commands: LegacyCommand[] } | { ok: false; error: string };

const NL = 0x0a;
const decoder = new TextDecoder();

export function parseLegacyBody(body: Uint8Array, maxCommands: number): LegacyParse {
  const commands: LegacyCommand[] = [];
  let start = 0;
  while (start <= body.length) {
    let end = body.indexOf(NL, start);
    if (end < 0) end = body.length;
    const s = skipWs(body, start, end);
    if (s < end) {
      if (commands.length >= maxCommands) return { ok: false, error: `more than ${maxCommands} commands` };
      const cmd = parseLine(body, s, end);
      if (typeof cmd === 'string') return { ok: false, error: `command ${commands.length + 1}: ${cmd}` };
      commands.push(cmd);
    }
    start = end + 1;
  }
  if (commands.length === 0) return { ok: false, error: 'no commands' };
  return { ok: true, commands };
}

function parseLine(b: Uint8Array, start: number, end: number): LegacyCommand | string {
  if (!isJson(b.subarray(start, end))) return 'invalid JSON';
  let i = skipWs(b, start, end);
  if (b[i] !== 0x7b /* { */) return 'not a JSON object';
  i++;
  let id: string | null = null;
  let method: MethodBinding | null = null;
  let methodSeen = false;
  let paramsStart = 0;
  let paramsEnd = 0;
  for (;;) {
    i = skipWs(b, i, end);
    if (b[i] === 0x7d /* } */) break;
    if (b[i] === 0x2c /* , */) i = skipWs(b, i + 1, end);
    const keyEnd = skipString(b, i);
    const key = JSON.parse(decoder.decode(b.subarray(i, keyEnd))) as string;
    i = skipWs(b, keyEnd, end) + 1; // past ':'
    const vStart = skipWs(b, i, end);
    const vEnd = skipValue(b, vStart, end);
    i = vEnd;
    if (key === 'id') {
      const text = decoder.decode(b.subarray(vStart, vEnd));
      if (text === 'null') continue;
      if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffffffff) return 'id must be an unsigned 32-bit integer';
      id = Number(text) === 0 ? null : String(Number(text));
    } else if (key === 'method') {
      methodSeen = true;
      const v = JSON.parse(decoder.decode(b.subarray(vStart, vEnd))) as unknown;
      if (typeof v === 'string') method = METHODS_BY_NAME.get(v.toLowerCase()) ?? null;
      else if (typeof v === 'number') method = METHODS_BY_LEGACY_ID.get(v) ?? null;
      else if (v === null) methodSeen = false;
      else return 'method must be a string or an integer';
      // Batch is not a legacy method: it is a transport of its own.
      if (method !== null && method.legacyId < 0) method = null;
    } else if (key === 'params') {
      const isNull = vEnd - vStart === 4 && b[vStart] === 0x6e; /* null */
      paramsStart = isNull ? 0 : vStart;
      paramsEnd = isNull ? 0 : vEnd;
    }
  }
  // A missing method is the enum's zero value: publish (as Go decoding the old Command did).
  if (!methodSeen) method = METHODS_BY_LEGACY_ID.get(0) ?? null;
  return { id, method, paramsStart, paramsEnd };
}

function isWs(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function skipWs(b: Uint8Array, i: number, end: number): number {
  while (i < end && isWs(b[i])) i++;
  return i;
}

/** `b[i]` is the opening quote of a valid JSON string; returns the index after its closing quote. */
function skipString(b: Uint8Array, i: number): number {
  i++;
  while (b[i] !== 0x22) i += b[i] === 0x5c ? 2 : 1;
  return i + 1;
}

/** Index after the valid JSON value starting at `i`. */
function skipValue(b: Uint8Array, i: number, end: number): number {
  const c = b[i];
  if (c === 0x22) return skipString(b, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    while (i < end) {
      const d = b[i]!;
      if (d === 0x22) {
        i = skipString(b, i);
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if ((d === 0x7d || d === 0x5d) && --depth === 0) return i + 1;
      i++;
    }
    return i;
  }
  while (i < end && !isWs(b[i]) && b[i] !== 0x2c && b[i] !== 0x7d && b[i] !== 0x5d) i++;
  return i;
}
