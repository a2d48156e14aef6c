// Adapts generated service descriptors (e.g. api.CentrifugoApiMethods) to the shape grpc-js expects
// for `server.addService(definition, implementation)` and `makeGenericClientConstructor`, without
// depending on grpc-js here. Keys stay the RPC names as declared (`Publish`, `PresenceStats`, `RPC`).
//
// A request that fails to decode makes the deserializer throw DecodeError; grpc-js turns that
// into a call error with status INTERNAL ("Error deserializing request") before any handler runs.
import { decodeBinary, encodeBinary } from './wire/message.ts';
import type { MethodDescriptor } from './wire/runtime.ts';

export interface GrpcMethodDefinition<Req, Res> {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly originalName: string;
  requestSerialize(value: Req): Buffer;
  requestDeserialize(bytes: Buffer): Req;
  responseSerialize(value: Res): Buffer;
  responseDeserialize(bytes: Buffer): Res;
}

export type GrpcServiceDefinition<M> = {
  [K in keyof M]: M[K] extends MethodDescriptor<infer Req, infer Res> ? GrpcMethodDefinition<Req, Res> : never;
};

function toBuffer(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.length);
}

// Methods are heterogeneous (each its own request/response types), hence `any` in the constraint.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function grpcServiceDefinition<M extends Record<string, MethodDescriptor<any, any>>>(methods: M): GrpcServiceDefinition<M> {
  const out: Record<string, GrpcMethodDefinition<unknown, unknown>> = {};
  for (const [key, m] of Object.entries(methods)) {
    out[key] = {
      path: m.path,
      requestStream: m.requestStream,
      responseStream: m.responseStream,
      originalName: m.name,
      requestSerialize: (v) => toBuffer(encodeBinary(m.requestType, v)),
      requestDeserialize: (b) => decodeBinary(m.requestType, b),
      responseSerialize: (v) => toBuffer(encodeBinary(m.responseType, v)),
      responseDeserialize: (b) => decodeBinary(m.responseType, b),
    };
  }
  return out as GrpcServiceDefinition<M>;
}
