// The gRPC binding of the server API (PROTOCOL.md §7.2): service
// `centrifugal.centrifugo.api.CentrifugoApi` on @grpc/grpc-js, port grpc_api.port (10000).
//
// Messages are (de)serialised by our generated codecs (@rotor/proto's grpcServiceDefinition), so
// no .proto file is loaded at run time. The request deserializer is wrapped: bytes that are not a
// valid message become a MalformedRequest value instead of an exception, so the handler answers
// INVALID_ARGUMENT (grpc-js would otherwise report INTERNAL for a throwing deserializer).
//
// Auth: with grpc_api.key set, the first `authorization` metadata value must equal
// `apikey <KEY>` (constant-time compare) or the call fails with UNAUTHENTICATED. Without a key
// there is no auth at all — as in Centrifugo — and a warning is logged at start.
//
// Errors travel in XResponse.error by default; with metadata `x-centrifugo-error-mode: transport`
// or grpc_api.error_mode `transport` they become gRPC status codes (error-mode.ts).
import * as grpc from '@grpc/grpc-js';
import { apiKeyMatches, RotorError, silentLogger } from '@rotor/core';
import type { Logger, RotorConfig } from '@rotor/core';
import { api, decodeBinary, grpcServiceDefinition } from '@rotor/proto';
import { ERROR_MODE_HEADER, grpcStatusForCode, useTransportErrors } from './error-mode.ts';
import { METHODS } from './methods.ts';
import type { MethodBinding } from './methods.ts';
import { toApiError } from './service.ts';
import type { ApiService, CallContext } from './service.ts';
import { apiTracingEnabled } from './tracing.ts';

export interface GrpcApiOptions {
  log?: Logger;
  /** Most concurrent calls per client connection. Default 1000. */
  maxConcurrentStreams?: number;
  /** Server keepalive ping interval / ack timeout. Defaults 60 s / 20 s. */
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
  /** How long close() waits for calls in flight before cancelling them. Default 5 s. */
  shutdownGraceMs?: number;
}

export interface GrpcApi {
  /** The bound port (resolved when config asked for 0). */
  readonly port: number;
  /** Stops accepting calls, lets calls in flight finish (up to the grace period), then closes. */
  close(): Promise<void>;
}

const CTX: CallContext = { protocol: 'grpc' };
const DEFAULT_MAX_RECEIVE = 4 * 1024 * 1024;

/** What the deserializer hands over for bytes that do not decode. */
export class MalformedRequest {
  constructor(readonly reason: string) {}
}

type Handler = grpc.handleUnaryCall<unknown, unknown>;

function serviceDefinition(): grpc.ServiceDefinition {
  const base = grpcServiceDefinition(api.CentrifugoApiMethods) as unknown as Record<string, grpc.MethodDefinition<unknown, unknown>>;
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const m of METHODS) {
    const def = base[m.grpcName];
    if (def === undefined) throw new Error(`generated CentrifugoApi has no ${m.grpcName}`);
    const requestType = m.requestType;
    out[m.grpcName] = {
      ...def,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decodeBinary(requestType, bytes);
        } catch (err) {
          return new MalformedRequest(err instanceof Error ? err.message : String(err));
        }
      },
    };
  }
  return out as grpc.ServiceDefinition;
}

/** Starts the gRPC API server; resolves once it is bound. */
export async function startGrpcApi(service: ApiService, config: RotorConfig, options: GrpcApiOptions = {}): Promise<GrpcApi> {
  const cfg = config.grpcApi;
  const log = options.log ?? silentLogger();
  const metrics = service.metrics;
  const expected = cfg.key === '' ? null : `apikey ${cfg.key}`;
  if (expected === null) log.warn('gRPC API has no key: calls are not authenticated (set grpc_api.key)');
  const traced = apiTracingEnabled(config);
  /** The call context; traced, it carries the call's W3C trace context from its metadata. */
  const callContext = (md: grpc.Metadata): CallContext => {
    if (!traced) return CTX;
    const traceparent = md.get('traceparent')[0];
    if (typeof traceparent !== 'string' || traceparent === '') return CTX;
    const tracestate = md.get('tracestate')[0];
    return typeof tracestate === 'string' && tracestate !== '' ? { protocol: 'grpc', traceparent, tracestate } : { protocol: 'grpc', traceparent };
  };

  const authorized = (md: grpc.Metadata): boolean => {
    if (expected === null) return true;
    const first = md.get('authorization')[0];
    return typeof first === 'string' && apiKeyMatches(expected, first);
  };

  const handler = (m: MethodBinding): Handler => (call, callback) => {
    if (!authorized(call.metadata)) {
      metrics.rejected('grpc', 'unauthorized');
      callback({ code: grpc.status.UNAUTHENTICATED, details: 'unauthenticated' });
      return;
    }
    const req = call.request;
    if (req instanceof MalformedRequest) {
      metrics.rejected('grpc', 'bad_body');
      callback({ code: grpc.status.INVALID_ARGUMENT, details: `malformed request: ${req.reason}` });
      return;
    }
    const mode = call.metadata.get(ERROR_MODE_HEADER)[0];
    const transport = useTransportErrors(cfg.errorMode, typeof mode === 'string' ? mode : undefined);
    m.call(service, req, callContext(call.metadata))
      .then(
        (result) => callback(null, m.ok(result)),
        (err: unknown) => {
          const error = toApiError(RotorError.from(err));
          const inBody = transport ? null : m.fail(error);
          if (inBody !== null) callback(null, inBody);
          else callback({ code: grpcStatusForCode(error.code ?? 100), details: error.message ?? '' });
        },
      )
      .catch((err: unknown) => log.error('gRPC API response failed', { method: m.grpcName, error: String(err) }));
  };

  const implementation: grpc.UntypedServiceImplementation = {};
  for (const m of METHODS) implementation[m.grpcName] = handler(m);

  const server = new grpc.Server({
    'grpc.max_receive_message_length': cfg.maxReceiveMessageSize > 0 ? cfg.maxReceiveMessageSize : DEFAULT_MAX_RECEIVE,
    'grpc.max_concurrent_streams': options.maxConcurrentStreams ?? 1000,
    'grpc.keepalive_time_ms': options.keepaliveTimeMs ?? 60_000,
    'grpc.keepalive_timeout_ms': options.keepaliveTimeoutMs ?? 20_000,
  });
  server.addService(serviceDefinition(), implementation);

  const host = cfg.address === '' ? '0.0.0.0' : cfg.address.includes(':') ? `[${cfg.address}]` : cfg.address;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${cfg.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) {
        server.forceShutdown();
        reject(new Error(`gRPC API could not listen on ${host}:${cfg.port}: ${err.message}`, { cause: err }));
      }
      else resolve(bound);
    });
  });
  log.info('gRPC API listening', { address: host, port });

  const grace = options.shutdownGraceMs ?? 5_000;
  let closing: Promise<void> | null = null;
  return {
    port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), grace);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}
