// A minimal tracer provider behind @opentelemetry/api: recording spans with the usual limits,
// the env-configured sampler, and a sink (the batch processor) that receives each span once it
// ends. Loaded only when tracing is enabled (tracing.ts imports it dynamically).
//
// Why not @opentelemetry/sdk-trace-*: every SDK release that runs on Node 20 (2.x) declares
// `@opentelemetry/api <1.10.0` as its peer, and the releases built for api 1.10 (3.x) need Node
// ≥ 22.15; the workspace pins api 1.10.0 on Node 20. The API is the stable contract; what a
// server needs from an SDK (spans, sampling, batching, OTLP/HTTP JSON) is small.
import { randomFillSync } from 'node:crypto';
import { SpanStatusCode, TraceFlags, context, isSpanContextValid, trace } from '@opentelemetry/api';
import type {
  AttributeValue,
  Attributes,
  Context,
  Exception,
  Link,
  Span,
  SpanContext,
  SpanKind,
  SpanOptions,
  SpanStatus,
  TimeInput,
  Tracer,
  TracerProvider,
} from '@opentelemetry/api';
import type { SamplerSettings } from './settings.ts';

/** Per-span limits (the spec's defaults). */
export const MAX_ATTRIBUTES = 128;
export const MAX_EVENTS = 128;
export const MAX_LINKS = 128;
/** Longest string attribute value kept; longer ones are truncated. */
export const MAX_ATTRIBUTE_LENGTH = 4096;

export interface Scope {
  readonly name: string;
  readonly version: string;
}

export interface SpanEvent {
  readonly name: string;
  readonly timeMs: number;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

/** What the exporter reads from an ended span. */
export interface FinishedSpan {
  readonly scope: Scope;
  readonly name: string;
  readonly kind: SpanKind;
  readonly context: SpanContext;
  readonly parentSpanId: string | undefined;
  /** Epoch milliseconds (fractional). */
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly droppedAttributes: number;
  readonly events: readonly SpanEvent[];
  readonly links: readonly Link[];
  readonly status: SpanStatus;
}

export interface SpanSink {
  onEnd(span: FinishedSpan): void;
}

// ---- ids and time --------------------------------------------------------------------------

const pool = Buffer.allocUnsafe(4096);
let poolAt = pool.length;

function randomHex(bytes: number, zeros: string): string {
  for (;;) {
    if (poolAt + bytes > pool.length) {
      randomFillSync(pool);
      poolAt = 0;
    }
    const id = pool.toString('hex', poolAt, poolAt + bytes);
    poolAt += bytes;
    if (id !== zeros) return id;
  }
}

const newTraceId = (): string => randomHex(16, '00000000000000000000000000000000');
const newSpanId = (): string => randomHex(8, '0000000000000000');

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function timeMs(t: TimeInput | undefined): number {
  if (t === undefined) return nowMs();
  if (typeof t === 'number') return t < 1e11 ? performance.timeOrigin + t : t; // performance.now() or epoch ms
  if (t instanceof Date) return t.getTime();
  return t[0] * 1000 + t[1] / 1e6; // HrTime [seconds, nanoseconds]
}

function isPrimitive(v: unknown): boolean {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean';
}

/**
 * What OTLP can carry: a string, number or boolean, or an array of them (holes allowed). The API's
 * types are not enforced at run time, and one object or bigint would make the encoders throw for
 * the whole batch; such values are dropped, as the spec asks of an SDK.
 */
function isAttributeValue(v: unknown): v is AttributeValue {
  if (isPrimitive(v)) return true;
  if (!Array.isArray(v)) return false;
  for (const item of v) if (item !== null && item !== undefined && !isPrimitive(item)) return false;
  return true;
}

function limitValue(v: AttributeValue): AttributeValue {
  return typeof v === 'string' && v.length > MAX_ATTRIBUTE_LENGTH ? v.slice(0, MAX_ATTRIBUTE_LENGTH) : v;
}

// ---- sampling ------------------------------------------------------------------------------

export function shouldSample(s: SamplerSettings, traceId: string, parent: SpanContext | undefined): boolean {
  if (s.parentBased && parent !== undefined) return (parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
  if (s.root === 'always_on') return true;
  if (s.root === 'always_off') return false;
  // traceidratio: the low 56 bits of the trace id against the ratio (deterministic per trace).
  return parseInt(traceId.slice(18), 16) / 2 ** 56 < s.ratio;
}

// ---- spans ---------------------------------------------------------------------------------

class RecordingSpan implements Span, FinishedSpan {
  readonly attributes: Record<string, AttributeValue> = Object.create(null) as Record<string, AttributeValue>;
  #attributeCount = 0;
  droppedAttributes = 0;
  readonly events: SpanEvent[] = [];
  readonly links: Link[];
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  endMs = 0;
  #ended = false;

  constructor(
    readonly scope: Scope,
    public name: string,
    readonly kind: SpanKind,
    readonly context: SpanContext,
    readonly parentSpanId: string | undefined,
    readonly startMs: number,
    links: readonly Link[] | undefined,
    private readonly sink: SpanSink,
  ) {
    this.links = links === undefined ? [] : links.slice(0, MAX_LINKS);
  }

  spanContext(): SpanContext {
    return this.context;
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (this.#ended || !isAttributeValue(value) || key === '') return this;
    if (!(key in this.attributes)) {
      if (this.#attributeCount >= MAX_ATTRIBUTES) {
        this.droppedAttributes++;
        return this;
      }
      this.#attributeCount++;
    }
    this.attributes[key] = limitValue(value);
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key of Object.keys(attributes)) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.#ended || this.events.length >= MAX_EVENTS) return this;
    const isTime = typeof attributesOrTime === 'number' || attributesOrTime instanceof Date || Array.isArray(attributesOrTime);
    const attrs: Record<string, AttributeValue> = {};
    if (!isTime && attributesOrTime !== undefined) {
      for (const [k, v] of Object.entries(attributesOrTime as Attributes)) if (isAttributeValue(v)) attrs[k] = limitValue(v);
    }
    this.events.push({ name, timeMs: timeMs(isTime ? (attributesOrTime as TimeInput) : time), attributes: attrs });
    return this;
  }

  addLink(link: Link): this {
    if (!this.#ended && this.links.length < MAX_LINKS) this.links.push(link);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const l of links) this.addLink(l);
    return this;
  }

  setStatus(status: SpanStatus): this {
    // OK is final; UNSET never replaces a status that was set.
    if (this.#ended || this.status.code === SpanStatusCode.OK || status.code === SpanStatusCode.UNSET) return this;
    this.status = status.code === SpanStatusCode.ERROR ? { code: status.code, message: status.message ?? '' } : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.#ended) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.#ended) return;
    this.#ended = true;
    this.endMs = Math.max(this.startMs, timeMs(endTime));
    this.sink.onEnd(this);
  }

  isRecording(): boolean {
    return !this.#ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attrs: Attributes = {};
    if (typeof exception === 'string') attrs['exception.message'] = exception;
    else {
      if (exception.name !== undefined) attrs['exception.type'] = exception.name;
      else if (exception.code !== undefined) attrs['exception.type'] = String(exception.code);
      if (exception.message !== undefined) attrs['exception.message'] = exception.message;
      if (exception.stack !== undefined) attrs['exception.stacktrace'] = exception.stack;
    }
    this.addEvent('exception', attrs, time);
  }
}

// ---- tracer and provider -------------------------------------------------------------------

class RotorTracer implements Tracer {
  constructor(
    private readonly scope: Scope,
    private readonly sampler: SamplerSettings,
    private readonly sink: () => SpanSink | null,
  ) {}

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = context.active()): Span {
    const parentSc = options.root === true ? undefined : trace.getSpanContext(ctx);
    const parent = parentSc !== undefined && isSpanContextValid(parentSc) ? parentSc : undefined;
    const traceId = parent?.traceId ?? newTraceId();
    const spanId = newSpanId();
    const sink = this.sink();
    const sampled = sink !== null && shouldSample(this.sampler, traceId, parent);
    const sc: SpanContext = { traceId, spanId, traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE };
    if (parent?.traceState !== undefined) sc.traceState = parent.traceState;
    // Unsampled: a context-only span, so that children follow the decision and nothing records.
    if (!sampled || sink === null) return trace.wrapSpanContext(sc);
    const span = new RecordingSpan(this.scope, name, options.kind ?? 0, sc, parent?.spanId, timeMs(options.startTime), options.links, sink);
    if (options.attributes !== undefined) span.setAttributes(options.attributes);
    return span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    const options = (rest.length >= 2 ? rest[0] : undefined) as SpanOptions | undefined;
    const ctx = (rest.length >= 3 ? rest[1] : context.active()) as Context;
    const span = this.startSpan(name, options, ctx);
    return context.with(trace.setSpan(ctx, span), () => fn(span)) as ReturnType<F>;
  }
}

export class RotorTracerProvider implements TracerProvider {
  readonly #tracers = new Map<string, RotorTracer>();
  #sink: SpanSink | null;

  constructor(
    private readonly sampler: SamplerSettings,
    sink: SpanSink,
  ) {
    this.#sink = sink;
  }

  getTracer(name: string, version = ''): Tracer {
    const key = `${name}@${version}`;
    let t = this.#tracers.get(key);
    if (t === undefined) {
      t = new RotorTracer({ name, version }, this.sampler, () => this.#sink);
      this.#tracers.set(key, t);
    }
    return t;
  }

  /** After this, new spans are not recorded (the processor is shutting down). */
  stopRecording(): void {
    this.#sink = null;
  }
}
