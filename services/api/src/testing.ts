// @rotor/api/testing: a fake OTLP/HTTP collector for tests — a node:http server on 127.0.0.1:0
// that accepts ExportTraceServiceRequests at /v1/traces, as protobuf (application/x-protobuf,
// decoded by protobufjs from our schema text, independently of the exporter's encoder) or JSON
// (application/json), and keeps the spans it received, each with its resource's attributes
// flattened to plain values. Any other content type gets 415, a malformed body 400.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { decodeTraceRequestProtobuf } from './testing-otlp-schema.ts';

export type PlainValue = string | number | boolean | PlainValue[] | null;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, PlainValue>;
  status: { code: number; message?: string };
  resource: Record<string, PlainValue>;
  scope: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  flags: number;
  traceState: string | undefined;
  events: Array<{ name: string; attributes: Record<string, PlainValue> }>;
  /** Which encoding the span arrived in. */
  format: 'protobuf' | 'json';
}

export interface FakeCollector {
  /** e.g. http://127.0.0.1:PORT (OTEL_EXPORTER_OTLP_ENDPOINT). */
  readonly endpoint: string;
  readonly spans: ReceivedSpan[];
  /** Export requests received (any path), with their headers. */
  readonly requests: Array<{ path: string; headers: IncomingHttpHeaders; format: 'protobuf' | 'json' | null }>;
  close(): Promise<void>;
}

interface JsonKeyValue {
  key: string;
  value?: Record<string, unknown>;
}

function plain(v: Record<string, unknown> | undefined): PlainValue {
  if (v === undefined) return null;
  if ('stringValue' in v) return v['stringValue'] as string;
  if ('boolValue' in v) return v['boolValue'] as boolean;
  if ('intValue' in v) return Number(v['intValue']);
  if ('doubleValue' in v) return v['doubleValue'] as number;
  if ('arrayValue' in v) return ((v['arrayValue'] as { values?: Array<Record<string, unknown>> }).values ?? []).map(plain);
  return null;
}

function attrs(list: JsonKeyValue[] | undefined): Record<string, PlainValue> {
  const out: Record<string, PlainValue> = {};
  for (const kv of list ?? []) out[kv.key] = plain(kv.value);
  return out;
}

interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  flags?: number;
  events?: Array<{ name?: string; attributes?: JsonKeyValue[] }>;
  name: string;
  kind: number;
  attributes?: JsonKeyValue[];
  status?: { code?: number; message?: string };
  startTimeUnixNano: string;
  endTimeUnixNano: string;
}

interface JsonRequest {
  resourceSpans?: Array<{ resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: Array<{ scope?: { name?: string }; spans?: JsonSpan[] }> }>;
}

/** Starts the collector; `status` answers every export with that HTTP status (default 200). */
export async function startFakeCollector(options: { status?: number } = {}): Promise<FakeCollector> {
  const spans: ReceivedSpan[] = [];
  const requests: FakeCollector['requests'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = req.headers['content-type'];
      const format = contentType === 'application/x-protobuf' ? 'protobuf' : contentType === 'application/json' ? 'json' : null;
      requests.push({ path: req.url ?? '', headers: req.headers, format });
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (format === null) {
        res.writeHead(415).end();
        return;
      }
      let body: JsonRequest;
      try {
        const bytes = Buffer.concat(chunks);
        // The protobuf body is decoded into the OTLP/JSON shape, so one walk below serves both.
        body = (format === 'protobuf' ? decodeTraceRequestProtobuf(bytes) : JSON.parse(bytes.toString('utf8'))) as JsonRequest;
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
        return;
      }
      for (const rs of body.resourceSpans ?? []) {
        const resource = attrs(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId,
              name: s.name,
              kind: s.kind,
              attributes: attrs(s.attributes),
              status: { code: s.status?.code ?? 0, ...(s.status?.message === undefined ? {} : { message: s.status.message }) },
              resource,
              scope: ss.scope?.name ?? '',
              startTimeUnixNano: s.startTimeUnixNano,
              endTimeUnixNano: s.endTimeUnixNano,
              flags: s.flags ?? 0,
              traceState: s.traceState,
              events: (s.events ?? []).map((e) => ({ name: e.name ?? '', attributes: attrs(e.attributes) })),
              format,
            });
          }
        }
      }
      // An empty ExportTraceServiceResponse in the request's encoding (full success).
      if (format === 'protobuf') res.writeHead(options.status ?? 200, { 'content-type': 'application/x-protobuf' }).end();
      else res.writeHead(options.status ?? 200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A collector that is down: it holds its port (so no other process can take it during the test)
 * and resets every connection before reading a byte.
 */
export async function deadEndpoint(): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const server = createNetServer((socket) => socket.resetAndDestroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
