// Public surface of @rotor/api: the server API as one transport-agnostic service plus its HTTP
// (uWebSockets.js routes) and gRPC bindings, and the cluster api role that serves both.
export { createApiService, toApiError, API_METHODS, DEFAULT_MAX_BATCH_SIZE, DEFAULT_CONCURRENCY } from './service.ts';
export type { ApiDeps, ApiService, ApiMethod, CallContext, RpcHandler } from './service.ts';
export { mountHttpApi } from './http.ts';
export type { HttpApiOptions } from './http.ts';
export { startGrpcApi, MalformedRequest } from './grpc.ts';
export type { GrpcApi, GrpcApiOptions } from './grpc.ts';
export { startApiRole } from './role.ts';
export type { ApiRole, ApiRoleDeps } from './role.ts';
export { ApiMetrics } from './metrics.ts';
export type { ApiProtocol, RejectReason } from './metrics.ts';
export { compileGlob, Glob, GlobSyntaxError, MAX_GLOB_LENGTH } from './glob.ts';
export { ERROR_MODE_HEADER, httpStatusForCode, grpcStatusForCode } from './error-mode.ts';
export { METHODS } from './methods.ts';
export type { MethodBinding } from './methods.ts';
export { startTracing, apiTracingEnabled } from './tracing.ts';
export type { Tracing, TracingOptions } from './tracing.ts';
