// Server API tracing (Centrifugo's `opentelemetry.enabled` + `opentelemetry.api`): when both are
// true, startTracing registers a tracer provider that exports every API call's span over
// OTLP/HTTP (protobuf by default, or JSON), configured by the standard OTEL_* environment variables (otel/settings.ts).
// When either is false nothing is registered and the exporter code is never even loaded (the
// dynamic import below), and ApiService skips span creation altogether.
import type { Logger, RotorConfig } from '@rotor/core';

export interface TracingOptions {
  /** Process role, the `rotor.role` resource attribute: 'embedded' (rotor start) or 'api'. */
  role: string;
  /** Default service.name (OTEL_SERVICE_NAME wins): 'rotor' embedded, 'rotor-api' for the api role. */
  serviceName: string;
  /** Node name, the `rotor.node` resource attribute. */
  node: string;
  /** service.instance.id (e.g. the node's uid). */
  instanceId?: string;
  /** service.version. */
  version?: string;
  log?: Logger;
  /** Where OTEL_* variables are read (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface Tracing {
  /** Exports every span ended so far. */
  forceFlush(): Promise<void>;
  /** Stops recording, flushes (bounded by OTEL_BSP_EXPORT_TIMEOUT) and unregisters the provider. Idempotent. */
  shutdown(): Promise<void>;
}

/** True when API calls are traced: opentelemetry.enabled and opentelemetry.api. */
export function apiTracingEnabled(config: Pick<RotorConfig, 'opentelemetry'>): boolean {
  return config.opentelemetry.enabled && config.opentelemetry.api;
}

/**
 * Registers the global tracer provider when API tracing is enabled; null when it is not (or
 * OTEL_SDK_DISABLED=true, or another provider is already registered). Never throws for a bad
 * OTEL_* value: it logs a warning and uses the default.
 */
export async function startTracing(config: Pick<RotorConfig, 'opentelemetry'>, opts: TracingOptions): Promise<Tracing | null> {
  if (!apiTracingEnabled(config)) return null;
  const env = opts.env ?? process.env;
  if ((env['OTEL_SDK_DISABLED'] ?? '').trim().toLowerCase() === 'true') {
    opts.log?.info('tracing disabled by OTEL_SDK_DISABLED');
    return null;
  }
  const { installTracing } = await import('./otel/sdk.ts');
  return installTracing({ ...opts, env });
}
