// Units of the OTLP exporter: W3C traceparent parsing, OTEL_* settings, OTLP JSON encoding, the
// batch processor's bounds and the exporter's rate-limited failure log (real refused socket).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import type { Context, SpanContext } from '@opentelemetry/api';
import { createLogger } from '@rotor/core';
import { deadEndpoint } from '../testing.ts';
import { BatchSpanProcessor } from './batch.ts';
import { FAILURE_LOG_INTERVAL_MS, OtlpHttpExporter } from './exporter.ts';
import type { SpanExporter } from './exporter.ts';
import { encodeTraceRequest, nanos } from './otlp-json.ts';
import { encodeTraceRequestProtobuf } from './otlp-proto.ts';
import { DEFAULT_PROTOCOL, DEFAULT_TRACES_URL, loggableUrl, otlpSettingsFromEnv } from './settings.ts';
import { RotorTracerProvider } from './tracer.ts';
import type { FinishedSpan } from './tracer.ts';
import { parseTraceparent } from './w3c.ts';

const TID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SID = '00f067aa0ba902b7';

test('traceparent: valid versions parse; malformed, zero ids and version ff are refused', () => {
  const sc = parseTraceparent(`00-${TID}-${SID}-01`, 'a=1,b=2');
  assert.deepEqual({ ...sc, traceState: sc?.traceState?.serialize() }, { traceId: TID, spanId: SID, traceFlags: TraceFlags.SAMPLED, isRemote: true, traceState: 'a=1,b=2' });
  assert.equal(parseTraceparent(`00-${TID}-${SID}-00`)?.traceFlags, TraceFlags.NONE);
  assert.equal(parseTraceparent(`01-${TID}-${SID}-01-future`)?.traceId, TID, 'a later version may add fields');
  for (const bad of [
    undefined,
    '',
    `00-${TID}-${SID}-01-x`,
    `ff-${TID}-${SID}-01`,
    `00-${'0'.repeat(32)}-${SID}-01`,
    `00-${TID}-${'0'.repeat(16)}-01`,
    `00-${TID.toUpperCase()}-${SID}-01`,
    `00_${TID}-${SID}-01`,
    `00-${TID}-${SID}-zz`,
  ]) {
    assert.equal(parseTraceparent(bad), null, String(bad));
  }
});

test('settings: endpoint precedence, headers, service name, protocol and bad values', () => {
  const d = otlpSettingsFromEnv({}, 'rotor');
  assert.equal(d.url, DEFAULT_TRACES_URL);
  assert.equal(d.protocol, 'http/protobuf');
  assert.equal(d.serviceName, 'rotor');
  assert.deepEqual(d.warnings, []);
  assert.deepEqual(d.batch, { scheduleDelayMs: 5000, maxQueueSize: 2048, maxExportBatchSize: 512, exportTimeoutMs: 30000 });
  assert.deepEqual(d.sampler, { root: 'always_on', ratio: 1, parentBased: true });

  assert.equal(otlpSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }, 'x').url, 'http://c:4318/v1/traces');
  assert.equal(otlpSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://t/x' }, 'x').url, 'https://t/x');
  const creds = otlpSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://u:pw@c:4318' }, 'x');
  assert.equal(creds.url, DEFAULT_TRACES_URL);
  assert.ok(creds.warnings.length === 1 && !creds.warnings[0]!.includes('pw'));

  const s = otlpSettingsFromEnv(
    {
      OTEL_EXPORTER_OTLP_HEADERS: 'a=1',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=Bearer%20s3cret,=bad,x=%E0%A4%A',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,deployment.environment=prod',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_BSP_MAX_QUEUE_SIZE: '10',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '50',
      OTEL_BSP_SCHEDULE_DELAY: 'soon',
      OTEL_TRACES_SAMPLER: 'traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    },
    'rotor',
  );
  assert.deepEqual({ ...s.headers }, { authorization: 'Bearer s3cret' });
  assert.equal(s.serviceName, 'from-attrs');
  assert.equal(s.resourceAttributes['deployment.environment'], 'prod');
  assert.equal(s.batch.maxExportBatchSize, 10, 'capped by the queue size');
  assert.equal(s.batch.scheduleDelayMs, 5000);
  assert.deepEqual(s.sampler, { root: 'traceidratio', ratio: 0.25, parentBased: false });
  assert.equal(s.protocol, 'http/protobuf');
  assert.equal(s.warnings.length, 2, s.warnings.join('\n'));
  assert.ok(!s.warnings.join().includes('s3cret'));
  assert.equal(otlpSettingsFromEnv({ OTEL_SERVICE_NAME: 'svc', OTEL_RESOURCE_ATTRIBUTES: 'service.name=a' }, 'rotor').serviceName, 'svc');
  assert.equal(loggableUrl('https://c:1/v1/traces?token=x'), 'https://c:1/v1/traces');
});

test('settings: OTLP protocol — http/protobuf by default, http/json on request, the traces variable wins, grpc and unknown values warn and fall back', () => {
  assert.equal(DEFAULT_PROTOCOL, 'http/protobuf');
  const pick = (env: Record<string, string>): { protocol: string; warnings: readonly string[] } => {
    const s = otlpSettingsFromEnv(env, 'x');
    return { protocol: s.protocol, warnings: s.warnings };
  };
  assert.deepEqual(pick({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), { protocol: 'http/json', warnings: [] });
  assert.deepEqual(pick({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: ' http/json ' }), { protocol: 'http/json', warnings: [] });
  assert.deepEqual(pick({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }), { protocol: 'http/protobuf', warnings: [] });
  assert.deepEqual(pick({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: '' }), { protocol: 'http/protobuf', warnings: [] }, 'empty = unset');
  const grpc = pick({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
  assert.equal(grpc.protocol, 'http/protobuf');
  assert.deepEqual(grpc.warnings, ['OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported; spans are sent as http/protobuf (OTLP/HTTP, collector port 4318 by default)']);
  const tracesGrpc = pick({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' });
  assert.equal(tracesGrpc.protocol, 'http/protobuf');
  assert.match(tracesGrpc.warnings[0] ?? '', /^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: grpc is not supported/);
  const odd = pick({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'HTTP/JSON-secret' });
  assert.equal(odd.protocol, 'http/protobuf');
  assert.equal(odd.warnings.length, 1);
  assert.match(odd.warnings[0]!, /^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL is not one of http\/protobuf, http\/json, grpc/);
  assert.ok(!odd.warnings[0]!.includes('secret'), 'the value is not echoed');
});

function recordSpans(): { spans: FinishedSpan[]; provider: RotorTracerProvider } {
  const spans: FinishedSpan[] = [];
  return { spans, provider: new RotorTracerProvider({ root: 'always_on', ratio: 1, parentBased: true }, { onEnd: (s) => spans.push(s) }) };
}

test('OTLP JSON: ids as hex, times as nanosecond strings, kinds shifted by one, attributes typed', () => {
  const { spans, provider } = recordSpans();
  const span = provider.getTracer('scope', '1.0').startSpan('op', { kind: SpanKind.SERVER, attributes: { s: 'x', i: 7, d: 1.5, b: true, a: ['p', 'q'] } });
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  span.recordException(new Error('bad'));
  span.end();
  span.setAttribute('late', 1);
  span.end();
  assert.equal(spans.length, 1, 'ended once');
  const body = JSON.parse(encodeTraceRequest({ 'service.name': 'svc' }, spans)) as {
    resourceSpans: Array<{ resource: unknown; scopeSpans: Array<{ scope: unknown; spans: Array<Record<string, unknown>> }> }>;
  };
  const rs = body.resourceSpans[0]!;
  assert.deepEqual(rs.resource, { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] });
  assert.deepEqual(rs.scopeSpans[0]!.scope, { name: 'scope', version: '1.0' });
  const s = rs.scopeSpans[0]!.spans[0]!;
  assert.match(s['traceId'] as string, /^[0-9a-f]{32}$/);
  assert.match(s['spanId'] as string, /^[0-9a-f]{16}$/);
  assert.equal(s['kind'], 2);
  assert.match(s['startTimeUnixNano'] as string, /^\d{19}$/);
  assert.deepEqual(s['status'], { code: 2, message: 'boom' });
  assert.deepEqual(s['attributes'], [
    { key: 's', value: { stringValue: 'x' } },
    { key: 'i', value: { intValue: '7' } },
    { key: 'd', value: { doubleValue: 1.5 } },
    { key: 'b', value: { boolValue: true } },
    { key: 'a', value: { arrayValue: { values: [{ stringValue: 'p' }, { stringValue: 'q' }] } } },
  ]);
  assert.equal((s['events'] as Array<{ name: string }>)[0]!.name, 'exception');
  assert.equal(nanos(1700000000123.5), '1700000000123500000');
  assert.equal(nanos(5), '5000000');
  assert.equal(nanos(0.5), '500000', 'no leading zeros below 1 ms');
  assert.equal(nanos(0), '0');
});

test('sampling: a parent that is not sampled makes a non-recording child; always_off records nothing', () => {
  const { spans, provider } = recordSpans();
  const tracer = provider.getTracer('t');
  const parent = parseTraceparent(`00-${TID}-${SID}-00`)!;
  const child = tracer.startSpan('c', {}, contextWith(parent));
  assert.equal(child.isRecording(), false);
  assert.equal(child.spanContext().traceId, TID);
  child.end();
  const off = new RotorTracerProvider({ root: 'always_off', ratio: 1, parentBased: true }, { onEnd: (s) => spans.push(s) });
  off.getTracer('t').startSpan('x').end();
  assert.equal(spans.length, 0);
});

function contextWith(sc: SpanContext): Context {
  return trace.setSpanContext(ROOT_CONTEXT, sc);
}

test('batch processor: a full queue drops (and counts) spans instead of growing; flush exports in batches', async () => {
  const batches: number[] = [];
  let dropped = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const exporter: SpanExporter = {
    export: async (spans) => {
      batches.push(spans.length);
      await gate;
      return true;
    },
    dropped: (n) => void (dropped += n),
  };
  const p = new BatchSpanProcessor({ scheduleDelayMs: 600_000, maxQueueSize: 4, maxExportBatchSize: 2, exportTimeoutMs: 5_000 }, exporter);
  const tracer = new RotorTracerProvider({ root: 'always_on', ratio: 1, parentBased: true }, p).getTracer('t');
  for (let i = 0; i < 10; i++) tracer.startSpan(`s${i}`).end();
  // 2 went out at once (batch full), 4 wait behind the export in flight, 4 were dropped.
  assert.deepEqual(batches, [2]);
  assert.equal(dropped, 4);
  release();
  await p.forceFlush();
  assert.deepEqual(batches, [2, 2, 2]);
});

test('exporter: a reset connection resolves false and is logged once per interval, without the header value', async (t) => {
  const dead = await deadEndpoint();
  t.after(() => dead.close());
  const url = `${dead.endpoint}/v1/traces`;
  const lines: Array<Record<string, unknown>> = [];
  let now = 1_000_000;
  const exporter = new OtlpHttpExporter({
    url,
    headers: { authorization: 'Bearer hush-hush' },
    timeoutMs: 5_000,
    resource: {},
    log: createLogger({ level: 'info', write: (l) => void lines.push(JSON.parse(l) as Record<string, unknown>) }),
    now: () => now,
  });
  const { spans, provider } = recordSpans();
  provider.getTracer('t').startSpan('a').end();
  assert.equal(await exporter.export(spans), false);
  assert.equal(await exporter.export(spans), false);
  assert.equal(lines.length, 1);
  now += FAILURE_LOG_INTERVAL_MS;
  assert.equal(await exporter.export(spans), false);
  assert.equal(lines.length, 2);
  assert.deepEqual({ reason: lines[1]!['reason'], failures: lines[1]!['failures'], lost: lines[1]!['lostSpans'] }, { reason: 'ECONNRESET', failures: 2, lost: 2 });
  assert.ok(!JSON.stringify(lines).includes('hush-hush'));
});

test('settings: a header that fetch would refuse is dropped with a warning, never exported or echoed', () => {
  const s = otlpSettingsFromEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20s3cret%0Ainjected,bad key=v,x-ok=fine,uni=%E2%82%AC' }, 'rotor');
  assert.deepEqual({ ...s.headers }, { 'x-ok': 'fine' });
  assert.equal(s.warnings.length, 1, s.warnings.join('\n'));
  assert.match(s.warnings[0]!, /^OTEL_EXPORTER_OTLP_HEADERS/);
  assert.ok(!s.warnings[0]!.includes('s3cret'));
});

test('exporter: a header value fetch refuses is not echoed into the failure log', async (t) => {
  const dead = await deadEndpoint();
  t.after(() => dead.close());
  const lines: string[] = [];
  const exporter = new OtlpHttpExporter({
    url: `${dead.endpoint}/v1/traces`,
    headers: { authorization: 'Bearer hush-hush\nX' },
    timeoutMs: 5_000,
    resource: {},
    log: createLogger({ level: 'info', write: (l) => void lines.push(l) }),
  });
  const { spans, provider } = recordSpans();
  provider.getTracer('t').startSpan('a').end();
  assert.equal(await exporter.export(spans), false);
  assert.equal(lines.length, 1);
  assert.ok(!lines[0]!.includes('hush-hush'), lines[0]);
});

test('settings: times beyond what Node timers take (2^31-1 ms) warn and fall back instead of firing at once or failing every export', () => {
  const s = otlpSettingsFromEnv(
    { OTEL_EXPORTER_OTLP_TIMEOUT: '4294967296', OTEL_BSP_SCHEDULE_DELAY: '2147483648', OTEL_BSP_EXPORT_TIMEOUT: '1e20' },
    'rotor',
  );
  assert.equal(s.timeoutMs, 10_000);
  assert.equal(s.batch.scheduleDelayMs, 5_000);
  assert.equal(s.batch.exportTimeoutMs, 30_000);
  assert.equal(s.warnings.length, 3, s.warnings.join('\n'));
});

test('OTLP JSON: a bad span time (invalid Date, negative) is 0 as in the protobuf body, and non-finite doubles use the proto3 JSON strings, so one odd span cannot make the collector refuse its batch', () => {
  const { spans, provider } = recordSpans();
  const span = provider.getTracer('t').startSpan('odd', { startTime: new Date(Number.NaN), attributes: { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, ninf: Number.NEGATIVE_INFINITY } });
  span.end(new Date(Number.NaN));
  assert.equal(nanos(Number.NaN), '0');
  assert.equal(nanos(-5), '0');
  const s = (JSON.parse(encodeTraceRequest({}, spans)) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }> }).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
  assert.equal(s['startTimeUnixNano'], '0');
  assert.equal(s['endTimeUnixNano'], '0');
  assert.deepEqual(s['attributes'], [
    { key: 'nan', value: { doubleValue: 'NaN' } },
    { key: 'inf', value: { doubleValue: 'Infinity' } },
    { key: 'ninf', value: { doubleValue: '-Infinity' } },
  ]);
});

test('attributes of a type OTLP cannot carry (objects, bigint, arrays of objects) are dropped at set time, not left to fail the encoding of the whole batch', () => {
  const { spans, provider } = recordSpans();
  const span = provider.getTracer('t').startSpan('odd', { attributes: { obj: { a: 1 } as never } });
  span.setAttribute('big', 10n as never);
  span.setAttribute('objs', [{ a: 1 }] as never);
  span.setAttribute('fn', (() => 1) as never);
  span.setAttribute('ok', ['a', null, 'b'] as never);
  span.addEvent('e', { obj: { a: 1 } as never, fine: 1 });
  span.end();
  assert.deepEqual(Object.keys(spans[0]!.attributes), ['ok']);
  assert.deepEqual(Object.keys(spans[0]!.events[0]!.attributes), ['fine']);
  assert.doesNotThrow(() => encodeTraceRequest({}, spans));
  assert.doesNotThrow(() => encodeTraceRequestProtobuf({}, spans));
});
