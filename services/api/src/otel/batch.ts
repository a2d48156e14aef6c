// Batch span processor: ended spans wait in a bounded queue and leave in batches, one export in
// flight at a time — when a batch is full, or scheduleDelayMs after the first span of a batch.
// A full queue drops new spans (counted, reported by the exporter): a slow or absent collector
// costs spans, never memory or API latency. The timer is unref'd and keeps no process alive.
import type { BatchSettings } from './settings.ts';
import type { SpanExporter } from './exporter.ts';
import type { FinishedSpan, SpanSink } from './tracer.ts';

export class BatchSpanProcessor implements SpanSink {
  #queue: FinishedSpan[] = [];
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> | null = null;
  #closed = false;

  constructor(
    private readonly settings: BatchSettings,
    private readonly exporter: SpanExporter,
  ) {}

  onEnd(span: FinishedSpan): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.settings.maxQueueSize) {
      this.exporter.dropped(1);
      return;
    }
    this.#queue.push(span);
    if (this.#queue.length >= this.settings.maxExportBatchSize) this.#kick();
    else this.#schedule();
  }

  /** Exports everything queued; resolves when the queue is empty and no export is in flight. */
  async forceFlush(): Promise<void> {
    while (this.#inFlight !== null || this.#queue.length > 0) {
      if (this.#inFlight === null) this.#kick();
      await this.#inFlight;
    }
  }

  /** Stops accepting spans and flushes, waiting at most settings.exportTimeoutMs. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.settings.exportTimeoutMs);
    });
    try {
      await Promise.race([this.forceFlush(), deadline]);
    } finally {
      clearTimeout(timer);
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = null;
      if (this.#queue.length > 0) this.exporter.dropped(this.#queue.length);
      this.#queue = [];
    }
  }

  #schedule(): void {
    if (this.#timer !== null || this.#inFlight !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#kick();
    }, this.settings.scheduleDelayMs);
    this.#timer.unref();
  }

  #kick(): void {
    if (this.#inFlight !== null) return;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.settings.maxExportBatchSize);
    // export() never rejects (the exporter reports its own failures).
    this.#inFlight = this.exporter.export(batch).then(() => {
      this.#inFlight = null;
      if (this.#queue.length >= this.settings.maxExportBatchSize) this.#kick();
      else if (this.#queue.length > 0) this.#schedule();
    });
  }
}
