// One OpenTelemetry span per API call (opentelemetry.enabled + opentelemetry.api). This file runs
// in its own process: the first test registers a recording tracer provider globally and inspects
// the spans of an HTTP call and a batch; the others start the real api role (startApiRole, real
// HTTP and gRPC sockets) against a fake OTLP/HTTP collector and check what arrives there — or,
// disabled or with the collector down, that nothing does and the API is unaffected.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { AttributeValue, Attributes, Context, Span, SpanContext, SpanOptions, SpanStatus, Tracer, TracerProvider } from '@opentelemetry/api';
import {
  ChannelSequencer,
  MemoryBroker,
  MemoryControlBus,
  MemoryHistoryStore,
  MemoryPresenceStore,
  createLogger,
} from '@rotor/core';
import { waitFor } from '@rotor/testkit';
import { startApiRole } from '../src/index.ts';
import type { ApiRole } from '../src/index.ts';
import { deadEndpoint, startFakeCollector } from '../src/testing.ts';
import type { ReceivedSpan } from '../src/testing.ts';
import { GRPC_KEY, GrpcTestClient, KEY, RecordingControlHandler, post, startTestApi, testConfig } from './harness.ts';

const TRACED = { opentelemetry: { enabled: true, api: true } };

class RecordingSpan implements Span {
  readonly attributes: Record<string, AttributeValue> = {};
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  ended = false;
  constructor(
    public name: string,
    readonly kind: number | undefined,
  ) {}
  spanContext(): SpanContext {
    return { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    for (const [k, v] of Object.entries(attributes)) if (v !== undefined) this.attributes[k] = v;
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.status = status;
    return this;
  }
  updateName(name: string): this {
    this.name = name;
    return this;
  }
  end(): void {
    this.ended = true;
  }
  isRecording(): boolean {
    return true;
  }
  recordException(): void {}
}

const spans: RecordingSpan[] = [];

const tracer: Tracer = {
  startSpan(name: string, options?: SpanOptions): Span {
    const span = new RecordingSpan(name, options?.kind);
    span.setAttributes(options?.attributes ?? {});
    spans.push(span);
    return span;
  },
  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    const options = (rest.length >= 2 ? rest[0] : undefined) as SpanOptions | undefined;
    const ctx = (rest.length >= 3 ? rest[1] : context.active()) as Context;
    const span = this.startSpan(name, options, ctx);
    return context.with(trace.setSpan(ctx, span), () => fn(span)) as ReturnType<F>;
  },
};

const provider: TracerProvider = { getTracer: () => tracer };

test('each API call is one span with method, protocol, channel and the error status', async () => {
  assert.equal(trace.setGlobalTracerProvider(provider), true);
  const t = await startTestApi({ grpc: false, config: TRACED });
  try {
    const ok = await post(`${t.httpUrl}/api/publish`, '{"channel":"news","data":{}}', { 'X-API-Key': KEY });
    assert.equal(ok.status, 200);
    const bad = await post(`${t.httpUrl}/api/publish`, '{"channel":"nope:x","data":{}}', { 'X-API-Key': KEY });
    assert.equal(bad.status, 200);
    const batch = await post(`${t.httpUrl}/api/batch`, '{"commands":[{"info":{}},{"presence":{"channel":"news"}}]}', { 'X-API-Key': KEY });
    assert.equal(batch.status, 200);

    assert.deepEqual(
      spans.map((s) => s.name),
      ['rotor.api/publish', 'rotor.api/publish', 'rotor.api/batch', 'rotor.api/info', 'rotor.api/presence'],
    );
    assert.ok(spans.every((s) => s.ended));
    const [first, second] = spans;
    assert.equal(first!.attributes['rpc.method'], 'publish');
    assert.equal(first!.attributes['rotor.api.protocol'], 'http');
    assert.equal(first!.attributes['rotor.channel'], 'news');
    assert.equal(first!.status.code, SpanStatusCode.UNSET);
    assert.equal(second!.status.code, SpanStatusCode.ERROR);
    assert.equal(second!.attributes['rotor.api.error_code'], 102);
  } finally {
    await t.close();
    trace.disable();
  }
});

// ---- the real role against a fake collector -------------------------------------------------

interface RoleUnderTest {
  role: ApiRole;
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

async function startRole(config: Record<string, unknown>, env: Record<string, string>): Promise<RoleUnderTest> {
  const history = new MemoryHistoryStore({ sweepIntervalMs: 0 });
  const presence = new MemoryPresenceStore({ sweepIntervalMs: 0 });
  const broker = new MemoryBroker();
  const publisher = new ChannelSequencer({ history, broker, sweepIntervalMs: 0 });
  const controlBus = new MemoryControlBus();
  controlBus.setHandler(new RecordingControlHandler());
  const logs: Array<Record<string, unknown>> = [];
  const log = createLogger({ level: 'info', write: (line) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const closeAdapters = async (): Promise<void> => {
    publisher.close();
    await Promise.all([broker.close(), history.close(), presence.close(), controlBus.close()]);
  };
  let role: ApiRole;
  try {
    role = await startApiRole(testConfig(config), { publisher, history, presence, controlBus, log, tracing: { env, instanceId: 'node-uid-1' } });
  } catch (err) {
    await closeAdapters();
    throw err;
  }
  return {
    role,
    logs,
    close: async () => {
      await role.close();
      await closeAdapters();
    },
  };
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN}-01`;
const GRPC_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

function byName(spans: readonly ReceivedSpan[], name: string): ReceivedSpan[] {
  return spans.filter((s) => s.name === name);
}

// Each protocol setting → the encoding expected at the collector. Unset means the spec's default.
const PROTOCOLS: Array<{ env: Record<string, string>; format: 'protobuf' | 'json'; contentType: string; label: string }> = [
  { env: {}, format: 'protobuf', contentType: 'application/x-protobuf', label: 'default http/protobuf' },
  { env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, format: 'json', contentType: 'application/json', label: 'http/json' },
];

for (const proto of PROTOCOLS) {
  test(`enabled (${proto.label}): HTTP and gRPC calls arrive at the OTLP collector as spans with the caller's trace as parent`, async (t) => {
    const collector = await startFakeCollector();
    t.after(() => collector.close());
    const r = await startRole(TRACED, {
      ...proto.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-token=sekret%20value',
      OTEL_BSP_SCHEDULE_DELAY: '20',
    });
    let closed = false;
    t.after(async () => {
      if (!closed) await r.close();
    });
    const base = `http://127.0.0.1:${r.role.httpPort}/api`;

    const ok = await post(`${base}/publish`, '{"channel":"news","data":{"n":1}}', { 'X-API-Key': KEY, traceparent: TRACEPARENT, tracestate: 'vendor=x' });
    assert.equal(ok.status, 200);
    const failed = await post(`${base}/publish`, '{"channel":"nope:x","data":{}}', { 'X-API-Key': KEY });
    assert.match(failed.body, /"code":102/);
    const batch = await post(`${base}/batch`, '{"commands":[{"info":{}},{"history":{"channel":"nohist:a"}}]}', { 'X-API-Key': KEY, traceparent: TRACEPARENT });
    assert.equal(batch.status, 200);
    const grpcClient = new GrpcTestClient(r.role.grpcPort ?? 0);
    try {
      await grpcClient.call('Publish', { channel: 'news', data: Buffer.from('{}') }, { authorization: `apikey ${GRPC_KEY}`, traceparent: `00-${GRPC_TRACE_ID}-b7ad6b7169203331-01` });
    } finally {
      grpcClient.close();
    }

    await waitFor(() => collector.spans.length >= 6, { what: '6 spans at the collector', timeoutMs: 10_000 });
    const spans = collector.spans;
    assert.equal(spans.length, 6, spans.map((s) => s.name).join());

    const publishes = byName(spans, 'rotor.api/publish');
    const httpPublish = publishes.find((s) => s.attributes['rotor.api.protocol'] === 'http' && s.attributes['rotor.channel'] === 'news');
    const failedPublish = publishes.find((s) => s.attributes['rotor.channel'] === 'nope:x');
    const grpcPublish = publishes.find((s) => s.attributes['rotor.api.protocol'] === 'grpc');
    assert.ok(httpPublish && failedPublish && grpcPublish);
    // The HTTP publish continues the caller's trace.
    assert.equal(httpPublish.traceId, TRACE_ID);
    assert.equal(httpPublish.parentSpanId, PARENT_SPAN);
    assert.equal(httpPublish.kind, 2, 'SERVER');
    assert.equal(httpPublish.traceState, 'vendor=x', 'the caller\'s tracestate is kept');
    assert.equal(httpPublish.flags, 1, 'sampled');
    assert.deepEqual(
      { method: httpPublish.attributes['rpc.method'], protocol: httpPublish.attributes['rotor.api.protocol'], channel: httpPublish.attributes['rotor.channel'] },
      { method: 'publish', protocol: 'http', channel: 'news' },
    );
    assert.equal(httpPublish.status.code, 0);
    assert.equal(httpPublish.attributes['rotor.api.error_code'], undefined);
    assert.ok(BigInt(httpPublish.endTimeUnixNano) >= BigInt(httpPublish.startTimeUnixNano));
    assert.ok(Math.abs(Number(BigInt(httpPublish.startTimeUnixNano) / 1_000_000n) - Date.now()) < 60_000, 'start time is epoch nanoseconds');
    // Without traceparent: a new trace; the error is the span's status and attribute.
    assert.notEqual(failedPublish.traceId, TRACE_ID);
    assert.equal(failedPublish.parentSpanId, undefined);
    assert.equal(failedPublish.status.code, 2, 'ERROR');
    assert.match(failedPublish.status.message ?? '', /unknown channel/);
    assert.equal(failedPublish.attributes['rotor.api.error_code'], 102);
    // gRPC metadata carries the trace too.
    assert.equal(grpcPublish.traceId, GRPC_TRACE_ID);
    assert.equal(grpcPublish.parentSpanId, 'b7ad6b7169203331');
    assert.equal(grpcPublish.attributes['rotor.api.protocol'], 'grpc');
    // Batch commands are children of the batch span, which is a child of the caller's span.
    const [batchSpan] = byName(spans, 'rotor.api/batch');
    const [info] = byName(spans, 'rotor.api/info');
    const [history] = byName(spans, 'rotor.api/history');
    assert.ok(batchSpan && info && history);
    assert.equal(batchSpan.parentSpanId, PARENT_SPAN);
    for (const child of [info, history]) {
      assert.equal(child.traceId, TRACE_ID);
      assert.equal(child.parentSpanId, batchSpan.spanId);
      assert.equal(child.kind, 1, 'INTERNAL');
    }
    assert.equal(history.attributes['rotor.api.error_code'], 108);
    assert.equal(history.attributes['rotor.channel'], 'nohist:a');
    // Resource and scope.
    assert.deepEqual(
      {
        service: httpPublish.resource['service.name'],
        role: httpPublish.resource['rotor.role'],
        node: httpPublish.resource['rotor.node'],
        instance: httpPublish.resource['service.instance.id'],
      },
      { service: 'rotor-api', role: 'api', node: 'test-node', instance: 'node-uid-1' },
    );
    assert.equal(httpPublish.scope, '@rotor/api');
    // OTEL_EXPORTER_OTLP_HEADERS went with the export, and appears in no log line.
    assert.ok(collector.requests.every((q) => q.headers['x-collector-token'] === 'sekret value'));
    assert.ok(!JSON.stringify(r.logs).includes('sekret'));

    // The body was in the configured encoding, and the role said which one it uses.
    assert.ok(collector.requests.length > 0 && collector.requests.every((q) => q.format === proto.format && q.headers['content-type'] === proto.contentType));
    assert.ok(spans.every((s) => s.format === proto.format));
    const enabled = r.logs.find((l) => l['msg'] === 'tracing enabled');
    assert.equal(enabled?.['protocol'], proto.format === 'protobuf' ? 'http/protobuf' : 'http/json');

    // close() unregisters the provider: spans are no-ops again.
    await r.close();
    closed = true;
    assert.equal(trace.getTracer('probe').startSpan('probe').isRecording(), false);
  });

  test(`spans still queued when the role closes are flushed by close() (${proto.label})`, async (t) => {
    const collector = await startFakeCollector();
    t.after(() => collector.close());
    // A schedule delay far beyond the test: only the flush at close can deliver the span.
    const r = await startRole(TRACED, { ...proto.env, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.endpoint}/v1/traces`, OTEL_BSP_SCHEDULE_DELAY: '600000', OTEL_SERVICE_NAME: 'my-api' });
    try {
      const res = await post(`http://127.0.0.1:${r.role.httpPort}/api/info`, '{}', { 'X-API-Key': KEY });
      assert.equal(res.status, 200);
      assert.equal(collector.spans.length, 0);
    } finally {
      await r.close();
    }
    assert.deepEqual(collector.spans.map((s) => [s.name, s.resource['service.name'], s.format]), [['rotor.api/info', 'my-api', proto.format]]);
  });
}

test('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc: a warning naming the variable, and spans still arrive as http/protobuf', async (t) => {
  const collector = await startFakeCollector();
  t.after(() => collector.close());
  const r = await startRole(TRACED, {
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '600000',
  });
  try {
    const warnings = r.logs.filter((l) => l['level'] === 'warn' && String(l['msg']).startsWith('tracing:'));
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(String(warnings[0]!['msg']), /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: grpc is not supported; spans are sent as http\/protobuf/);
    const res = await post(`http://127.0.0.1:${r.role.httpPort}/api/info`, '{}', { 'X-API-Key': KEY });
    assert.equal(res.status, 200);
  } finally {
    await r.close();
  }
  assert.deepEqual(collector.spans.map((s) => [s.name, s.format]), [['rotor.api/info', 'protobuf']]);
});

test('disabled (opentelemetry.api false): no provider registered, nothing exported, traceparent ignored', async (t) => {
  const collector = await startFakeCollector();
  t.after(() => collector.close());
  const r = await startRole({ opentelemetry: { enabled: true, api: false } }, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: '1' });
  try {
    assert.equal(trace.getTracer('probe').startSpan('probe').isRecording(), false, 'no tracer provider registered');
    const res = await post(`http://127.0.0.1:${r.role.httpPort}/api/publish`, '{"channel":"news","data":{}}', { 'X-API-Key': KEY, traceparent: TRACEPARENT });
    assert.equal(res.status, 200);
    assert.ok(!r.logs.some((l) => String(l['msg']).includes('tracing')), 'no tracing log line');
  } finally {
    // A registered provider would flush here: after close, an empty collector means nothing was sent.
    await r.close();
  }
  assert.equal(collector.requests.length, 0);
});

test('collector down: API calls answer as usual; the failure is logged once (rate-limited), without header values', async (t) => {
  const dead = await deadEndpoint();
  t.after(() => dead.close());
  const r = await startRole(TRACED, { OTEL_EXPORTER_OTLP_ENDPOINT: dead.endpoint, OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20topsecret', OTEL_BSP_SCHEDULE_DELAY: '1' });
  t.after(() => r.close());
  const failures = (): Array<Record<string, unknown>> => r.logs.filter((l) => l['msg'] === 'trace export failed; spans dropped (next report in 60 s at the earliest)');
  const base = `http://127.0.0.1:${r.role.httpPort}/api`;
  const res = await post(`${base}/publish`, '{"channel":"news","data":{}}', { 'X-API-Key': KEY });
  assert.equal(res.status, 200);
  await waitFor(() => failures().length === 1, { what: 'the export failure logged', timeoutMs: 10_000 });
  // More calls, more failed exports: every call still answers, no further log line.
  for (let i = 0; i < 5; i++) {
    const again = await post(`${base}/publish`, `{"channel":"news","data":{"i":${i}}}`, { 'X-API-Key': KEY });
    assert.equal(again.status, 200);
    assert.match(again.body, /"result":\{"offset":/);
  }
  await r.close();
  assert.equal(failures().length, 1);
  const line = failures()[0]!;
  assert.equal(line['endpoint'], `${dead.endpoint}/v1/traces`);
  assert.equal(line['reason'], 'ECONNRESET');
  assert.ok(!JSON.stringify(r.logs).includes('topsecret'));
});
