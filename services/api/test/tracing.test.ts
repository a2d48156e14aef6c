// One OpenTelemetry span per API call: a recording tracer provider is registered globally (this
// file runs in its own process) and the spans of an HTTP call and a batch are inspected.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { AttributeValue, Attributes, Context, Span, SpanContext, SpanOptions, SpanStatus, Tracer, TracerProvider } from '@opentelemetry/api';
import { KEY, post, startTestApi } from './harness.ts';

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
  const t = await startTestApi({ grpc: false });
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
