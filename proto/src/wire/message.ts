// The contract between generated code and everything else: a MessageType<T> knows how to write and
// read T in both encodings; the helpers below are the convenient whole-message entry points.
import { DecodeError } from './errors.ts';
import { JsonReader } from './json-reader.ts';
import { JsonWriter } from './json-writer.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

export interface MessageType<T> {
  /** Fully qualified protobuf name, e.g. `centrifugal.centrifuge.protocol.Reply`. */
  readonly typeName: string;
  /** Appends the fields of m (no length prefix). */
  write(w: Writer, m: T): void;
  /** Reads fields until `end`; `depth` is the nesting level of this message (0 at the top). */
  read(r: Reader, end: number, depth: number): T;
  /** Appends m as one JSON object. */
  writeJson(w: JsonWriter, m: T): void;
  /** Reads one JSON object. */
  readJson(r: JsonReader, depth: number): T;
}

/** Wire formats of the client protocol (and of the server API: gRPC is protobuf, HTTP is JSON). */
export type Format = 'json' | 'protobuf';

// Encoding is synchronous and never re-entrant, so one buffer per encoding serves every call.
const sharedWriter = new Writer(4096);
const sharedJsonWriter = new JsonWriter(4096);

/** Protobuf bytes of m (no length prefix). */
export function encodeBinary<T>(type: MessageType<T>, m: T): Uint8Array {
  const w = sharedWriter;
  w.reset();
  type.write(w, m);
  return w.finish();
}

/** Protobuf bytes of m prefixed with their varint length (the framing of the client protocol). */
export function encodeDelimited<T>(type: MessageType<T>, m: T): Uint8Array {
  const w = sharedWriter;
  w.reset();
  const start = w.fork();
  type.write(w, m);
  w.ldelim(start);
  return w.finish();
}

/** UTF-8 JSON bytes of m. */
export function encodeJson<T>(type: MessageType<T>, m: T): Uint8Array {
  const w = sharedJsonWriter;
  w.reset();
  type.writeJson(w, m);
  return w.finish();
}

/** Encodes m in the given format (protobuf without a length prefix). */
export function encodeMessage<T>(type: MessageType<T>, m: T, format: Format): Uint8Array {
  return format === 'json' ? encodeJson(type, m) : encodeBinary(type, m);
}

/** Decodes protobuf bytes; throws DecodeError on malformed input. */
export function decodeBinary<T>(type: MessageType<T>, bytes: Uint8Array, start = 0, end = bytes.length): T {
  const r = new Reader(bytes, start, end);
  const m = type.read(r, end, 0);
  if (r.pos !== end) throw new DecodeError('message overruns its end');
  return m;
}

/** Decodes one JSON object (whitespace around it allowed); throws DecodeError on malformed input. */
export function decodeJson<T>(type: MessageType<T>, bytes: Uint8Array, start = 0, end = bytes.length): T {
  const r = new JsonReader(bytes, start, end);
  const m = type.readJson(r, 0);
  if (!r.atEnd()) throw new DecodeError('invalid JSON: trailing data after the object');
  return m;
}

/** Decodes in the given format (protobuf without a length prefix); throws DecodeError. */
export function decodeMessage<T>(type: MessageType<T>, bytes: Uint8Array, format: Format): T {
  return format === 'json' ? decodeJson(type, bytes) : decodeBinary(type, bytes);
}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Like decodeMessage, but every failure (including unexpected exceptions) is a value. */
export function tryDecodeMessage<T>(type: MessageType<T>, bytes: Uint8Array, format: Format): DecodeResult<T> {
  try {
    return { ok: true, value: decodeMessage(type, bytes, format) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
