// Transport error mode (PROTOCOL.md §7.1–7.2). By default an API error travels in the response
// body (`{"error":{code,message}}` / XResponse.error) with HTTP 200 / gRPC OK. When the caller asks
// for the transport mode (header or metadata `x-centrifugo-error-mode: transport`, or
// `http_api.error_mode` / `grpc_api.error_mode` set to `transport`) the error becomes the HTTP
// status / gRPC status code instead. The two tables below are that mapping, kept as data.
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ErrorMode } from '@rotor/core';

/** Header (HTTP) and metadata key (gRPC) that selects the error mode per request. */
export const ERROR_MODE_HEADER = 'x-centrifugo-error-mode';

/** HTTP status line per API error code in transport mode; anything else is 500. */
const httpStatusByCode: ReadonlyMap<number, string> = new Map([
  [100, '500 Internal Server Error'],
  [102, '404 Not Found'],
  [104, '404 Not Found'],
  [107, '400 Bad Request'],
  [108, '400 Bad Request'],
  [112, '416 Range Not Satisfiable'],
  [113, '409 Conflict'],
]);

const grpcStatusByCode: ReadonlyMap<number, GrpcStatus> = new Map([
  [100, GrpcStatus.INTERNAL],
  [102, GrpcStatus.NOT_FOUND],
  [104, GrpcStatus.NOT_FOUND],
  [107, GrpcStatus.INVALID_ARGUMENT],
  [108, GrpcStatus.INVALID_ARGUMENT],
  [112, GrpcStatus.OUT_OF_RANGE],
  [113, GrpcStatus.ALREADY_EXISTS],
]);

export function httpStatusForCode(code: number): string {
  return httpStatusByCode.get(code) ?? '500 Internal Server Error';
}

export function grpcStatusForCode(code: number): GrpcStatus {
  return grpcStatusByCode.get(code) ?? GrpcStatus.INTERNAL;
}

/** Whether a request uses the transport error mode: configured, or asked for by the caller. */
export function useTransportErrors(configured: ErrorMode, requested: string | undefined): boolean {
  return configured === 'transport' || (requested !== undefined && requested.toLowerCase() === 'transport');
}
