// Finished spans → an OTLP/HTTP protobuf ExportTraceServiceRequest
// (opentelemetry.proto.collector.trace.v1), written field by field with @rotor/proto's Writer.
//
// Hand-written rather than generated from .proto files: OTLP times are fixed64 epoch nanoseconds
// (~1.7e18, beyond 2^53), which our generator's number-based 64-bit fields refuse by design; and
// the exporter only ever encodes, one fixed shape, so the generated types and decoders would be
// dead weight. Field numbers are those of opentelemetry-proto (trace/v1/trace.proto,
// common/v1/common.proto, resource/v1/resource.proto); otlp-proto.test.ts pins them against bytes
// and against an independent decoder. The content mirrors otlp-json.ts field for field.
import type { AttributeValue, Link } from '@opentelemetry/api';
import { Writer } from '@rotor/proto';
import type { FinishedSpan, Scope, SpanEvent } from './tracer.ts';

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

function tag(w: Writer, field: number, wireType: number): void {
  w.uint32((field << 3) | wireType);
}

function str(w: Writer, field: number, v: string): void {
  tag(w, field, LEN);
  w.string(v);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

/** A hex id as bytes. Our ids are validated hex; anything else is written as an empty (invalid) id. */
function hexBytes(w: Writer, field: number, hex: string): void {
  tag(w, field, LEN);
  const n = hex.length >>> 1;
  if ((hex.length & 1) !== 0) {
    w.uint32(0);
    return;
  }
  const start = w.pos;
  w.uint32(n);
  w.ensure(n);
  const buf = w.buf;
  let pos = w.pos;
  for (let i = 0; i < hex.length; i += 2) {
    const hi = hexValue(hex.charCodeAt(i));
    const lo = hexValue(hex.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) {
      w.pos = start;
      w.uint32(0);
      return;
    }
    buf[pos++] = (hi << 4) | lo;
  }
  w.pos = pos;
}

const TWO21 = 2 ** 21;
const TWO32 = 2 ** 32;

/**
 * fixed64 nanoseconds since the epoch. The value (~1.7e18) exceeds 2^53, so it is assembled in
 * two exact halves instead of as one number: ms = wh·2^21 + wl, ns = wh·1e6·2^21 + (wl·1e6 + sub),
 * every product below 2^53. Same rounding as the JSON encoder's nanos().
 */
function timeNanos(w: Writer, field: number, ms: number): void {
  tag(w, field, I64);
  if (!(ms > 0)) ms = 0;
  const whole = Math.floor(ms);
  const sub = Math.min(999_999, Math.round((ms - whole) * 1e6));
  const wh = Math.floor(whole / TWO21);
  const a = wh * 1e6; // ns = a·2^21 + b
  const b = (whole - wh * TWO21) * 1e6 + sub;
  const aHi = Math.floor(a / 2048); // a·2^21 = aHi·2^32 + (a mod 2^11)·2^21
  const low = (a - aHi * 2048) * TWO21 + b;
  const carry = Math.floor(low / TWO32);
  w.fixed32(low - carry * TWO32);
  w.fixed32(aHi + carry);
}

function anyValue(w: Writer, v: AttributeValue): void {
  if (typeof v === 'string') {
    str(w, 1, v);
  } else if (typeof v === 'boolean') {
    tag(w, 2, VARINT);
    w.bool(v);
  } else if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) {
      tag(w, 3, VARINT);
      w.int64(v);
    } else {
      tag(w, 4, I64);
      w.double(v);
    }
  } else {
    tag(w, 5, LEN); // array_value: ArrayValue { repeated AnyValue values = 1 }
    const array = w.fork();
    for (const item of v as ReadonlyArray<string | number | boolean | null | undefined>) {
      tag(w, 1, LEN);
      const value = w.fork();
      // As in the JSON encoding: a hole in a homogeneous array becomes an empty string.
      anyValue(w, item === null || item === undefined ? '' : item);
      w.ldelim(value);
    }
    w.ldelim(array);
  }
}

/** repeated KeyValue { string key = 1; AnyValue value = 2; } under `field`. */
function keyValues(w: Writer, field: number, attributes: Readonly<Record<string, AttributeValue>>): void {
  for (const key of Object.keys(attributes)) {
    const v = attributes[key];
    if (v === undefined) continue;
    tag(w, field, LEN);
    const kv = w.fork();
    str(w, 1, key);
    tag(w, 2, LEN);
    const value = w.fork();
    anyValue(w, v);
    w.ldelim(value);
    w.ldelim(kv);
  }
}

function event(w: Writer, e: SpanEvent): void {
  tag(w, 11, LEN);
  const start = w.fork();
  timeNanos(w, 1, e.timeMs);
  str(w, 2, e.name);
  keyValues(w, 3, e.attributes);
  w.ldelim(start);
}

function link(w: Writer, l: Link): void {
  tag(w, 13, LEN);
  const start = w.fork();
  hexBytes(w, 1, l.context.traceId);
  hexBytes(w, 2, l.context.spanId);
  const ts = l.context.traceState?.serialize();
  if (ts) str(w, 3, ts);
  keyValues(w, 4, (l.attributes ?? {}) as Record<string, AttributeValue>);
  tag(w, 6, I32);
  w.fixed32(l.context.traceFlags & 0xff);
  w.ldelim(start);
}

function span(w: Writer, s: FinishedSpan): void {
  tag(w, 2, LEN); // ScopeSpans.spans
  const start = w.fork();
  hexBytes(w, 1, s.context.traceId);
  hexBytes(w, 2, s.context.spanId);
  const ts = s.context.traceState?.serialize();
  if (ts) str(w, 3, ts);
  if (s.parentSpanId !== undefined) hexBytes(w, 4, s.parentSpanId);
  str(w, 5, s.name);
  // OTLP's SpanKind counts from UNSPECIFIED = 0; the API's from INTERNAL = 0.
  tag(w, 6, VARINT);
  w.uint32(s.kind + 1);
  timeNanos(w, 7, s.startMs);
  timeNanos(w, 8, s.endMs);
  keyValues(w, 9, s.attributes);
  if (s.droppedAttributes > 0) {
    tag(w, 10, VARINT);
    w.uint32(s.droppedAttributes);
  }
  for (const e of s.events) event(w, e);
  for (const l of s.links) link(w, l);
  // Status { string message = 2; StatusCode code = 3; } (field 1 is reserved). The code is
  // written even when UNSET, as the JSON encoding does.
  tag(w, 15, LEN);
  const status = w.fork();
  if (s.status.message) str(w, 2, s.status.message);
  tag(w, 3, VARINT);
  w.uint32(s.status.code);
  w.ldelim(status);
  tag(w, 16, I32);
  w.fixed32(s.context.traceFlags & 0xff);
  w.ldelim(start);
}

/**
 * One request body for `spans`, all under one resource, grouped by instrumentation scope.
 * `w` is reused between calls when given (the result is a copy, safe to keep).
 */
export function encodeTraceRequestProtobuf(resource: Readonly<Record<string, AttributeValue>>, spans: readonly FinishedSpan[], w: Writer = new Writer()): Uint8Array {
  const byScope = new Map<Scope, FinishedSpan[]>();
  for (const s of spans) {
    let list = byScope.get(s.scope);
    if (list === undefined) byScope.set(s.scope, (list = []));
    list.push(s);
  }
  w.reset();
  tag(w, 1, LEN); // ExportTraceServiceRequest.resource_spans
  const rs = w.fork();
  tag(w, 1, LEN); // ResourceSpans.resource
  const res = w.fork();
  keyValues(w, 1, resource); // Resource.attributes
  w.ldelim(res);
  for (const [scope, list] of byScope) {
    tag(w, 2, LEN); // ResourceSpans.scope_spans
    const ss = w.fork();
    tag(w, 1, LEN); // ScopeSpans.scope: InstrumentationScope { name = 1; version = 2; }
    const sc = w.fork();
    str(w, 1, scope.name);
    if (scope.version !== '') str(w, 2, scope.version);
    w.ldelim(sc);
    for (const s of list) span(w, s);
    w.ldelim(ss);
  }
  w.ldelim(rs);
  return w.buf.slice(0, w.pos);
}
