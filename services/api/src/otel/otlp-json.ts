// Finished spans → an OTLP/HTTP JSON ExportTraceServiceRequest (opentelemetry-proto,
// trace/v1 and collector/trace/v1). The JSON mapping is protobuf's canonical one with OTLP's
// exceptions: trace and span ids are hex strings, enums are integers; 64-bit integers (times,
// intValue) are decimal strings.
import type { AttributeValue, Link } from '@opentelemetry/api';
import type { FinishedSpan, Scope, SpanEvent } from './tracer.ts';

type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number | string }
  | { arrayValue: { values: AnyValue[] } };

interface KeyValue {
  key: string;
  value: AnyValue;
}

function anyValue(v: AttributeValue): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return { intValue: String(v) };
    // proto3 JSON spells non-finite doubles as strings; JSON.stringify would write null.
    return { doubleValue: Number.isFinite(v) ? v : String(v) };
  }
  const values: AnyValue[] = [];
  for (const item of v as ReadonlyArray<string | number | boolean | null | undefined>) values.push(item === null || item === undefined ? { stringValue: '' } : anyValue(item));
  return { arrayValue: { values } };
}

export function keyValues(attributes: Readonly<Record<string, AttributeValue>>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const key of Object.keys(attributes)) {
    const v = attributes[key];
    if (v !== undefined) out.push({ key, value: anyValue(v) });
  }
  return out;
}

/** Epoch milliseconds (fractional) → nanoseconds as a decimal string, without float overflow. */
export function nanos(ms: number): string {
  // As the protobuf encoder (timeNanos): NaN or a time before the epoch is 0, not an invalid number.
  if (!(ms > 0)) return '0';
  const whole = Math.floor(ms);
  const sub = Math.min(999_999, Math.round((ms - whole) * 1e6));
  return whole === 0 ? String(sub) : `${whole}${String(sub).padStart(6, '0')}`;
}

function event(e: SpanEvent): object {
  return { timeUnixNano: nanos(e.timeMs), name: e.name, attributes: keyValues(e.attributes) };
}

function link(l: Link): object {
  const out: Record<string, unknown> = {
    traceId: l.context.traceId,
    spanId: l.context.spanId,
    attributes: keyValues((l.attributes ?? {}) as Record<string, AttributeValue>),
    flags: l.context.traceFlags & 0xff,
  };
  const ts = l.context.traceState?.serialize();
  if (ts) out['traceState'] = ts;
  return out;
}

function span(s: FinishedSpan): object {
  const out: Record<string, unknown> = {
    traceId: s.context.traceId,
    spanId: s.context.spanId,
    name: s.name,
    // OTLP's SpanKind counts from UNSPECIFIED = 0; the API's from INTERNAL = 0.
    kind: s.kind + 1,
    startTimeUnixNano: nanos(s.startMs),
    endTimeUnixNano: nanos(s.endMs),
    attributes: keyValues(s.attributes),
    flags: s.context.traceFlags & 0xff,
    status: s.status.message ? { code: s.status.code, message: s.status.message } : { code: s.status.code },
  };
  if (s.parentSpanId !== undefined) out['parentSpanId'] = s.parentSpanId;
  const ts = s.context.traceState?.serialize();
  if (ts) out['traceState'] = ts;
  if (s.droppedAttributes > 0) out['droppedAttributesCount'] = s.droppedAttributes;
  if (s.events.length > 0) out['events'] = s.events.map(event);
  if (s.links.length > 0) out['links'] = s.links.map(link);
  return out;
}

/** One request body for `spans`, all under one resource, grouped by instrumentation scope. */
export function encodeTraceRequest(resource: Readonly<Record<string, AttributeValue>>, spans: readonly FinishedSpan[]): string {
  const byScope = new Map<Scope, object[]>();
  for (const s of spans) {
    let list = byScope.get(s.scope);
    if (list === undefined) byScope.set(s.scope, (list = []));
    list.push(span(s));
  }
  const scopeSpans = [...byScope].map(([scope, list]) => ({
    scope: scope.version === '' ? { name: scope.name } : { name: scope.name, version: scope.version },
    spans: list,
  }));
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: keyValues(resource) }, scopeSpans }] });
}
