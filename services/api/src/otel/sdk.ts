// Assembles and registers the tracing pipeline: RotorTracerProvider → BatchSpanProcessor →
// OtlpHttpExporter (http/protobuf or http/json), configured from the OTEL_* environment. Imported dynamically by
// tracing.ts, only when tracing is enabled.
import { hostname } from 'node:os';
import { trace } from '@opentelemetry/api';
import type { AttributeValue } from '@opentelemetry/api';
import { silentLogger } from '@rotor/core';
import { BatchSpanProcessor } from './batch.ts';
import { OtlpHttpExporter } from './exporter.ts';
import { loggableUrl, otlpSettingsFromEnv } from './settings.ts';
import { RotorTracerProvider } from './tracer.ts';
import type { Tracing, TracingOptions } from '../tracing.ts';

export function installTracing(opts: TracingOptions & { env: NonNullable<TracingOptions['env']> }): Tracing | null {
  const log = opts.log;
  const settings = otlpSettingsFromEnv(opts.env, opts.serviceName);
  for (const w of settings.warnings) log?.warn(`tracing: ${w}`);

  const resource: Record<string, AttributeValue> = {
    ...settings.resourceAttributes,
    'service.name': settings.serviceName,
    'rotor.role': opts.role,
    'rotor.node': opts.node,
    'host.name': settings.resourceAttributes['host.name'] ?? hostname(),
    'process.pid': process.pid,
    'telemetry.sdk.name': 'rotor',
    'telemetry.sdk.language': 'nodejs',
  };
  if (opts.instanceId !== undefined && settings.resourceAttributes['service.instance.id'] === undefined) resource['service.instance.id'] = opts.instanceId;
  if (opts.version !== undefined && settings.resourceAttributes['service.version'] === undefined) resource['service.version'] = opts.version;

  const exporter = new OtlpHttpExporter({
    protocol: settings.protocol,
    url: settings.url,
    headers: settings.headers,
    timeoutMs: settings.timeoutMs,
    resource,
    log: log ?? silentLogger(),
  });
  const processor = new BatchSpanProcessor(settings.batch, exporter);
  const provider = new RotorTracerProvider(settings.sampler, processor);
  if (!trace.setGlobalTracerProvider(provider)) {
    log?.warn('tracing: a tracer provider is already registered in this process; OTLP export not installed');
    return null;
  }
  log?.info('tracing enabled', { endpoint: loggableUrl(settings.url), serviceName: settings.serviceName, protocol: settings.protocol });

  let stopping: Promise<void> | null = null;
  return {
    forceFlush: () => processor.forceFlush(),
    shutdown(): Promise<void> {
      stopping ??= (async () => {
        provider.stopRecording();
        await processor.shutdown();
        // Unregister only our own provider (and so let a later start in this process register).
        const current = trace.getTracerProvider() as { getDelegate?: () => unknown };
        if (current.getDelegate?.() === provider) trace.disable();
      })();
      return stopping;
    },
  };
}
