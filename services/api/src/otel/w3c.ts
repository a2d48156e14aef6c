// W3C Trace Context (https://www.w3.org/TR/trace-context/): the incoming `traceparent` (and
// `tracestate`) of an HTTP request or gRPC call as the remote parent of the API call's span.
// Parsed here rather than through the global propagator so that it works with any registered
// tracer provider and costs nothing when tracing is off (the bindings do not read the headers).
import { ROOT_CONTEXT, TraceFlags, createTraceState, trace } from '@opentelemetry/api';
import type { Context, SpanContext } from '@opentelemetry/api';

/** tracestate longer than this is ignored (the spec allows 32 members of ≤ 256 chars; 512 is what implementations keep). */
const MAX_TRACESTATE = 512;
const HEX_ID = /^[0-9a-f]+$/;

function validId(id: string, zeros: string): boolean {
  return HEX_ID.test(id) && id !== zeros;
}

/** A remote span context from `traceparent`, or null when it is absent or malformed. */
export function parseTraceparent(traceparent: string | undefined, tracestate?: string): SpanContext | null {
  if (traceparent === undefined) return null;
  const tp = traceparent.trim();
  if (tp.length < 55) return null;
  const version = tp.slice(0, 2);
  // Version 00 is exactly 55 characters; a later version may append fields after a '-'.
  if (!HEX_ID.test(version) || version === 'ff') return null;
  if (version === '00' ? tp.length !== 55 : tp.length > 55 && tp[55] !== '-') return null;
  if (tp[2] !== '-' || tp[35] !== '-' || tp[52] !== '-') return null;
  const traceId = tp.slice(3, 35);
  const spanId = tp.slice(36, 52);
  const flags = tp.slice(53, 55);
  if (!validId(traceId, '00000000000000000000000000000000') || !validId(spanId, '0000000000000000') || !HEX_ID.test(flags)) return null;
  const sc: SpanContext = { traceId, spanId, traceFlags: parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true };
  const ts = tracestate?.trim();
  if (ts !== undefined && ts !== '' && ts.length <= MAX_TRACESTATE) sc.traceState = createTraceState(ts);
  return sc;
}

/** The context to start an API call's span in: the remote parent when `traceparent` is valid. */
export function remoteParent(traceparent: string | undefined, tracestate: string | undefined): Context | undefined {
  const sc = parseTraceparent(traceparent, tracestate);
  return sc === null ? undefined : trace.setSpanContext(ROOT_CONTEXT, sc);
}
