// OTLP/HTTP trace exporter (http/protobuf or http/json bodies): one POST per batch. It never throws and never rejects: a
// collector that is down, slow or refusing costs the dropped batch and, at most once per
// FAILURE_LOG_INTERVAL_MS, one warning line (endpoint without credentials, the reason, how many
// spans were lost since the last line). Header values are never logged.
import type { AttributeValue } from '@opentelemetry/api';
import type { Logger } from '@rotor/core';
import { Writer } from '@rotor/proto';
import { encodeTraceRequest } from './otlp-json.ts';
import { encodeTraceRequestProtobuf } from './otlp-proto.ts';
import { loggableUrl } from './settings.ts';
import type { OtlpProtocol } from './settings.ts';
import type { FinishedSpan } from './tracer.ts';

export const FAILURE_LOG_INTERVAL_MS = 60_000;

export interface ExporterOptions {
  /** Body encoding; default http/protobuf (Content-Type application/x-protobuf). */
  protocol?: OtlpProtocol;
  url: string;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  resource: Readonly<Record<string, AttributeValue>>;
  log: Logger;
  /** Clock for the log rate limit (tests). */
  now?: () => number;
}

export interface SpanExporter {
  /** Sends the spans; resolves true when the collector accepted them. Never rejects. */
  export(spans: readonly FinishedSpan[]): Promise<boolean>;
  /** Counts spans lost before they reached the exporter (a full queue); reported with failures. */
  dropped(count: number): void;
}

/**
 * Why an export failed, for the log: an error code where there is one; never the raw URL, nor a
 * header value (fetch's TypeError for a header it refuses quotes the value).
 */
function reason(err: unknown, url: string, loggable: string, secrets: readonly string[]): string {
  let text: string;
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timeout';
    const cause = (err as Error & { cause?: { code?: unknown; message?: unknown } }).cause;
    if (cause !== undefined && typeof cause.code === 'string') return cause.code;
    text = cause !== undefined && typeof cause.message === 'string' ? `${err.message}: ${cause.message}` : err.message;
  } else {
    text = String(err);
  }
  text = text.split(url).join(loggable);
  for (const v of secrets) text = text.split(v).join('(header value)');
  return text.slice(0, 200);
}

export class OtlpHttpExporter implements SpanExporter {
  readonly #protocol: OtlpProtocol;
  /** Reused between exports; encoding is synchronous, and the body is a copy. */
  readonly #writer: Writer | null;
  readonly #url: string;
  readonly #loggable: string;
  readonly #headers: Record<string, string>;
  readonly #headerValues: readonly string[];
  readonly #timeoutMs: number;
  readonly #resource: Readonly<Record<string, AttributeValue>>;
  readonly #log: Logger;
  readonly #now: () => number;
  #failing = false;
  #lastLogAt = -Infinity;
  #lostSinceLog = 0;
  #failuresSinceLog = 0;

  constructor(o: ExporterOptions) {
    this.#protocol = o.protocol ?? 'http/protobuf';
    this.#writer = this.#protocol === 'http/protobuf' ? new Writer() : null;
    this.#url = o.url;
    this.#loggable = loggableUrl(o.url);
    this.#headers = { ...o.headers, 'content-type': this.#protocol === 'http/protobuf' ? 'application/x-protobuf' : 'application/json' };
    this.#headerValues = Object.values(o.headers).filter((v) => v !== '');
    this.#timeoutMs = o.timeoutMs;
    this.#resource = o.resource;
    this.#log = o.log;
    this.#now = o.now ?? Date.now;
  }

  async export(spans: readonly FinishedSpan[]): Promise<boolean> {
    if (spans.length === 0) return true;
    try {
      const body = this.#writer !== null ? encodeTraceRequestProtobuf(this.#resource, spans, this.#writer) : encodeTraceRequest(this.#resource, spans);
      const res = await fetch(this.#url, { method: 'POST', headers: this.#headers, body, signal: AbortSignal.timeout(this.#timeoutMs) });
      // The body (an ExportTraceServiceResponse, maybe a partial success) is not needed; read it
      // so that the keep-alive connection is reusable.
      await res.arrayBuffer();
      if (res.status < 200 || res.status > 299) {
        this.#failed(`HTTP ${res.status}`, spans.length);
        return false;
      }
      if (this.#failing) {
        this.#failing = false;
        this.#log.info('trace export recovered', { endpoint: this.#loggable, lostSpans: this.#lostSinceLog });
        this.#lostSinceLog = 0;
        this.#failuresSinceLog = 0;
        this.#lastLogAt = -Infinity;
      }
      return true;
    } catch (err) {
      this.#failed(reason(err, this.#url, this.#loggable, this.#headerValues), spans.length);
      return false;
    }
  }

  dropped(count: number): void {
    this.#lostSinceLog += count;
  }

  #failed(why: string, lost: number): void {
    this.#failing = true;
    this.#lostSinceLog += lost;
    this.#failuresSinceLog++;
    const now = this.#now();
    if (now - this.#lastLogAt < FAILURE_LOG_INTERVAL_MS) return;
    this.#lastLogAt = now;
    this.#log.warn('trace export failed; spans dropped (next report in 60 s at the earliest)', {
      endpoint: this.#loggable,
      reason: why,
      failures: this.#failuresSinceLog,
      lostSpans: this.#lostSinceLog,
    });
    this.#failuresSinceLog = 0;
    this.#lostSinceLog = 0;
  }
}
