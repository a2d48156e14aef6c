// Everything generated code needs, from one import.
export { Writer } from './writer.ts';
export { Reader, checkDepth } from './reader.ts';
export { JsonWriter, jsonKey } from './json-writer.ts';
export { JsonReader } from './json-reader.ts';
export { DecodeError } from './errors.ts';
export type { MessageType } from './message.ts';

import { DecodeError } from './errors.ts';
import type { MessageType } from './message.ts';

/** Thrown by generated decoders when a field's last byte lies beyond its message's end. */
export function overrun(typeName: string): never {
  throw new DecodeError(`${typeName}: field runs past the end of the message`);
}

/** A fresh map object without a prototype: keys such as `__proto__` are plain data. */
export function newMap<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

/** Whether a map object has at least one own key. */
export function hasKeys(o: object): boolean {
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) return true;
  return false;
}

/** Describes one RPC of a generated service (transport-agnostic; see grpc.ts for grpc-js). */
export interface MethodDescriptor<Req, Res> {
  readonly name: string;
  readonly path: string;
  readonly requestType: MessageType<Req>;
  readonly responseType: MessageType<Res>;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}
