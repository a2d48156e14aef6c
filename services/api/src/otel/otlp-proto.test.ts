// The OTLP protobuf encoder: pinned bytes whose tags are spelled out from opentelemetry-proto
// (field number, wire type), an independent decode with protobufjs from the schema text, and
// agreement with the JSON encoding for the same spans.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanKind, SpanStatusCode, TraceFlags, createTraceState } from '@opentelemetry/api';
import { Writer } from '@rotor/proto';
import { decodeTraceRequestProtobuf } from '../testing-otlp-schema.ts';
import { encodeTraceRequest, nanos } from './otlp-json.ts';
import { encodeTraceRequestProtobuf } from './otlp-proto.ts';
import { RotorTracerProvider } from './tracer.ts';
import type { FinishedSpan } from './tracer.ts';

const TID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SID = '00f067aa0ba902b7';
const PID = 'b7ad6b7169203331';
const LINK_TID = '0af7651916cd43dd8448eb211c80319c';

/** A length-delimited field: its tag byte(s) as hex, the varint length of the parts, the parts. */
function ld(tagHex: string, ...parts: string[]): string {
  const body = parts.join('');
  const len = body.length / 2;
  assert.ok(len < 16384);
  // Varint: 7 bits per byte, low group first, high bit set on all but the last.
  const varint = len < 128 ? [len] : [(len & 0x7f) | 0x80, len >>> 7];
  return tagHex + Buffer.from(varint).toString('hex') + body;
}
const ascii = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

test('OTLP protobuf: bytes pinned field by field to opentelemetry-proto numbers and wire types', () => {
  const span: FinishedSpan = {
    scope: { name: 'sc', version: '1' },
    name: 'op',
    kind: SpanKind.SERVER,
    context: { traceId: TID, spanId: SID, traceFlags: TraceFlags.SAMPLED, traceState: createTraceState('v=x') },
    parentSpanId: PID,
    startMs: 1,
    endMs: 2,
    attributes: { i: 1 },
    droppedAttributes: 3,
    events: [{ name: 'e', timeMs: 1700000000123.5, attributes: {} }],
    links: [{ context: { traceId: LINK_TID, spanId: PID, traceFlags: TraceFlags.SAMPLED } }],
    status: { code: SpanStatusCode.ERROR, message: 'no' },
  };
  // Tags: (field << 3) | wire type, wire types 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
  const expected = ld(
    '0a', // ExportTraceServiceRequest.resource_spans = 1 (LEN)
    ld(
      '0a', // ResourceSpans.resource = 1
      ld('0a', ld('0a', ascii('k')), ld('12', ld('0a', ascii('v')))), // Resource.attributes = 1: KeyValue{key=1, value=2: AnyValue.string_value=1}
    ),
    ld(
      '12', // ResourceSpans.scope_spans = 2
      ld('0a', ld('0a', ascii('sc')), ld('12', ascii('1'))), // ScopeSpans.scope = 1: InstrumentationScope{name=1, version=2}
      ld(
        '12', // ScopeSpans.spans = 2
        ld('0a', TID), // Span.trace_id = 1 (16 bytes)
        ld('12', SID), // span_id = 2 (8 bytes)
        ld('1a', ascii('v=x')), // trace_state = 3
        ld('22', PID), // parent_span_id = 4
        ld('2a', ascii('op')), // name = 5
        '3002', // kind = 6 (varint): SPAN_KIND_SERVER = 2
        '39' + '40420f0000000000', // start_time_unix_nano = 7 (fixed64): 1 ms = 1,000,000 ns, little-endian
        '41' + '80841e0000000000', // end_time_unix_nano = 8 (fixed64): 2,000,000 ns
        ld('4a', ld('0a', ascii('i')), ld('12', '1801')), // attributes = 9: AnyValue.int_value = 3 (varint)
        '5003', // dropped_attributes_count = 10 (varint)
        ld('5a', '09' + 'e075863dfe9c9717', ld('12', ascii('e'))), // events = 11: Event{time_unix_nano=1 fixed64 = 0x17979cfe3d8675e0, name=2}
        ld('6a', ld('0a', LINK_TID), ld('12', PID), '35' + '01000000'), // links = 13: Link{trace_id=1, span_id=2, flags=6 fixed32}
        ld('7a', ld('12', ascii('no')), '1802'), // status = 15: Status{message=2, code=3 (varint) STATUS_CODE_ERROR = 2}
        '8501' + '01000000', // flags = 16 (fixed32, two-byte tag 0x85 0x01): sampled
      ),
    ),
  );
  assert.equal(Buffer.from(encodeTraceRequestProtobuf({ k: 'v' }, [span])).toString('hex'), expected);
});

test('OTLP protobuf: attribute values of every type, as protobufjs decodes them', () => {
  const span: FinishedSpan = {
    scope: { name: 's', version: '' },
    name: 'n',
    kind: SpanKind.INTERNAL,
    context: { traceId: TID, spanId: SID, traceFlags: TraceFlags.NONE },
    parentSpanId: undefined,
    startMs: 1700000000123.5,
    endMs: 1700000000124,
    attributes: { s: 'é€😀', neg: -7, big: Number.MAX_SAFE_INTEGER, d: -0.25, t: true, f: false, arr: [1, 2], holes: ['a', null as unknown as string] },
    droppedAttributes: 0,
    events: [],
    links: [],
    status: { code: SpanStatusCode.UNSET },
  };
  const body = decodeTraceRequestProtobuf(encodeTraceRequestProtobuf({}, [span])) as {
    resourceSpans: Array<{ scopeSpans: Array<{ scope: unknown; spans: Array<Record<string, unknown>> }> }>;
  };
  const ss = body.resourceSpans[0]!.scopeSpans[0]!;
  assert.deepEqual(ss.scope, { name: 's' });
  const s = ss.spans[0]!;
  assert.equal(s['kind'], 1, 'SPAN_KIND_INTERNAL');
  assert.equal(s['startTimeUnixNano'], '1700000000123500000', 'fixed64 beyond 2^53, exact');
  assert.equal(s['endTimeUnixNano'], '1700000000124000000');
  assert.equal(s['parentSpanId'], undefined);
  assert.deepEqual(s['attributes'], [
    { key: 's', value: { stringValue: 'é€😀' } },
    { key: 'neg', value: { intValue: '-7' } },
    { key: 'big', value: { intValue: String(Number.MAX_SAFE_INTEGER) } },
    { key: 'd', value: { doubleValue: -0.25 } },
    { key: 't', value: { boolValue: true } },
    { key: 'f', value: { boolValue: false } },
    { key: 'arr', value: { arrayValue: { values: [{ intValue: '1' }, { intValue: '2' }] } } },
    { key: 'holes', value: { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: '' }] } } },
  ]);
});

/** Removes what protobuf leaves off the wire or off toObject (zeros, empty lists) from a JSON tree. */
function withoutDefaults(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutDefaults);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) {
      if (item === 0 || item === '' || (Array.isArray(item) && item.length === 0)) continue;
      out[k] = withoutDefaults(item);
    }
    return out;
  }
  return v;
}

test('OTLP protobuf and OTLP JSON carry the same request for real spans (scopes, events, links, status)', () => {
  const spans: FinishedSpan[] = [];
  const provider = new RotorTracerProvider({ root: 'always_on', ratio: 1, parentBased: true }, { onEnd: (s) => spans.push(s) });
  const a = provider.getTracer('scope-a', '2.0');
  const b = provider.getTracer('scope-b');
  const first = a.startSpan('first', { kind: SpanKind.CLIENT, attributes: { x: 1, y: 'z' }, links: [{ context: { traceId: LINK_TID, spanId: PID, traceFlags: 1 }, attributes: { why: 'cause' } }] });
  first.addEvent('tick', { n: 2.5 });
  first.setStatus({ code: SpanStatusCode.OK });
  first.end();
  const second = b.startSpan('second', { kind: SpanKind.CONSUMER });
  second.recordException(new Error('bad'));
  second.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
  second.end();
  a.startSpan('third').end();
  const resource = { 'service.name': 'svc', 'process.pid': 42 };
  const w = new Writer(16); // tiny on purpose: the writer must grow, and is reused below
  const fromProto = decodeTraceRequestProtobuf(encodeTraceRequestProtobuf(resource, spans, w));
  const fromJson = JSON.parse(encodeTraceRequest(resource, spans)) as unknown;
  assert.deepEqual(withoutDefaults(fromProto), withoutDefaults(fromJson));
  const scopes = (fromProto as { resourceSpans: Array<{ scopeSpans: Array<{ scope: { name: string }; spans: unknown[] }> }> }).resourceSpans[0]!.scopeSpans;
  assert.deepEqual(scopes.map((s) => [s.scope.name, s.spans.length]), [['scope-a', 2], ['scope-b', 1]]);
  // The reused writer starts afresh: a second encoding is identical, not appended.
  assert.deepEqual(encodeTraceRequestProtobuf(resource, spans, w), encodeTraceRequestProtobuf(resource, spans));
});

test('OTLP protobuf: a malformed id is written as an empty (invalid) id, never as garbage bytes', () => {
  const span: FinishedSpan = {
    scope: { name: 's', version: '' },
    name: 'n',
    kind: SpanKind.INTERNAL,
    context: { traceId: TID, spanId: SID, traceFlags: 0 },
    parentSpanId: undefined,
    startMs: 1,
    endMs: 1,
    attributes: {},
    droppedAttributes: 0,
    events: [],
    links: [
      { context: { traceId: 'zz'.repeat(16), spanId: 'abc', traceFlags: 0 } },
      { context: { traceId: LINK_TID, spanId: PID, traceFlags: 0 } },
    ],
    status: { code: SpanStatusCode.UNSET },
  };
  const body = decodeTraceRequestProtobuf(encodeTraceRequestProtobuf({}, [span])) as {
    resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ links: Array<Record<string, unknown>> }> }> }>;
  };
  const links = body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.links;
  // proto3: an empty bytes field decodes as absent.
  assert.deepEqual([links[0]!['traceId'], links[0]!['spanId']], [undefined, undefined]);
  assert.deepEqual([links[1]!['traceId'], links[1]!['spanId']], [LINK_TID, PID]);
});

test('OTLP protobuf: fixed64 times agree with the JSON decimal nanoseconds over the whole range', () => {
  const times = [0, 0.000001, 0.5, 1, 999.9999995, 2 ** 21 - 0.25, 2 ** 32, 1700000000123.5, 1700000000123.999, 4102444800000.25, 2 ** 42 - 1.5];
  let seed = 7;
  for (let i = 0; i < 500; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31; // deterministic pseudo-random
    times.push((seed / 2 ** 31) * 4e12 + (i % 7) / 7);
  }
  for (const ms of times) {
    const span: FinishedSpan = {
      scope: { name: 's', version: '' },
      name: 'n',
      kind: SpanKind.INTERNAL,
      context: { traceId: TID, spanId: SID, traceFlags: 0 },
      parentSpanId: undefined,
      startMs: ms,
      endMs: ms,
      attributes: {},
      droppedAttributes: 0,
      events: [],
      links: [],
      status: { code: SpanStatusCode.UNSET },
    };
    const body = decodeTraceRequestProtobuf(encodeTraceRequestProtobuf({}, [span])) as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ startTimeUnixNano?: string }> }> }>;
    };
    // 0 is the proto3 default, absent on decode.
    assert.equal(body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.startTimeUnixNano ?? '0', nanos(ms), String(ms));
  }
});
