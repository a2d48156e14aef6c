// Test support only (the fake collector and the encoder's golden tests): the subset of the OTLP
// trace schema that Rotor's exporter writes, as .proto text for protobufjs — an independent
// decoder of our hand-written encoder (otel/otlp-proto.ts). Message and field names, numbers and
// types follow opentelemetry-proto v1 (collector/trace/v1/trace_service.proto, trace/v1/trace.proto,
// common/v1/common.proto, resource/v1/resource.proto); fields we never write are left out, which
// a protobuf decoder tolerates. Packages are flattened into one: only numbers travel on the wire.
import protobuf from 'protobufjs';
import type { Type } from 'protobufjs';

export const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp_subset;

message ExportTraceServiceRequest {
  repeated ResourceSpans resource_spans = 1;
}

message ResourceSpans {
  Resource resource = 1;
  repeated ScopeSpans scope_spans = 2;
  string schema_url = 3;
}

message Resource {
  repeated KeyValue attributes = 1;
  uint32 dropped_attributes_count = 2;
}

message ScopeSpans {
  InstrumentationScope scope = 1;
  repeated Span spans = 2;
  string schema_url = 3;
}

message InstrumentationScope {
  string name = 1;
  string version = 2;
  repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}

message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  enum SpanKind {
    SPAN_KIND_UNSPECIFIED = 0;
    SPAN_KIND_INTERNAL = 1;
    SPAN_KIND_SERVER = 2;
    SPAN_KIND_CLIENT = 3;
    SPAN_KIND_PRODUCER = 4;
    SPAN_KIND_CONSUMER = 5;
  }
  SpanKind kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  message Event {
    fixed64 time_unix_nano = 1;
    string name = 2;
    repeated KeyValue attributes = 3;
    uint32 dropped_attributes_count = 4;
  }
  repeated Event events = 11;
  uint32 dropped_events_count = 12;
  message Link {
    bytes trace_id = 1;
    bytes span_id = 2;
    string trace_state = 3;
    repeated KeyValue attributes = 4;
    uint32 dropped_attributes_count = 5;
    fixed32 flags = 6;
  }
  repeated Link links = 13;
  uint32 dropped_links_count = 14;
  Status status = 15;
}

message Status {
  reserved 1;
  string message = 2;
  enum StatusCode {
    STATUS_CODE_UNSET = 0;
    STATUS_CODE_OK = 1;
    STATUS_CODE_ERROR = 2;
  }
  StatusCode code = 3;
}

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}

message ArrayValue {
  repeated AnyValue values = 1;
}

message KeyValueList {
  repeated KeyValue values = 1;
}

message KeyValue {
  string key = 1;
  AnyValue value = 2;
}
`;

let request: Type | undefined;

/** protobufjs type of ExportTraceServiceRequest, parsed from OTLP_TRACE_PROTO once. */
export function exportTraceServiceRequestType(): Type {
  request ??= protobuf.parse(OTLP_TRACE_PROTO, { keepCase: false }).root.lookupType('otlp_subset.ExportTraceServiceRequest');
  return request;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

// Object keys protobufjs gives the id fields (camelCase).
const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

function idsToHex(v: unknown, key: string): unknown {
  if (v instanceof Uint8Array) return ID_KEYS.has(key) ? hex(v) : v;
  if (Array.isArray(v)) return v.map((item) => idsToHex(item, key));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) out[k] = idsToHex(item, k);
    return out;
  }
  return v;
}

/**
 * Decodes a protobuf ExportTraceServiceRequest into the shape of its OTLP/JSON encoding:
 * camelCase keys, ids as hex, 64-bit integers as decimal strings, enums as numbers. Fields not
 * on the wire are absent (empty repeated fields included). Throws on malformed input.
 */
export function decodeTraceRequestProtobuf(body: Uint8Array): Record<string, unknown> {
  const type = exportTraceServiceRequestType();
  const message = type.decode(body);
  const obj = type.toObject(message, { longs: String, enums: Number, defaults: false, arrays: false });
  return idsToHex(obj, '') as Record<string, unknown>;
}
