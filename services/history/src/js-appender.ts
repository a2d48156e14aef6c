// JsAppender: pipelined JetStream publishes for the shard's append path.
//
// Why not `js.publish`: it costs one request object, one timer and one mux lookup per message and
// tops out near 9k acked publishes/s on this machine; a shard must sustain more. Here every
// publish is a plain PUB with a reply subject under one inbox wildcard subscription; JetStream
// answers each with a PubAck ({"stream":…,"seq":…} or {"error":…}), or the server answers
// 503 "no responders" when no stream (or no JetStream) takes the subject. Pending publishes sit in
// a Map in send order; one interval timer fails the ones older than the timeout. Many thousands
// can be in flight; acks are matched by id, so their order does not matter to us.
//
// A timeout does not mean "not stored": JetStream may still persist the message. The caller
// treats any failure as "continuity unknown" (see jetstream-history-store.ts).
import { createInbox, type Msg, type NatsConnection, type NatsError, type Subscription } from 'nats';
import { Errors, RotorError } from '@rotor/core';

export interface StoreAck {
  stream: string;
  seq: number;
}

interface Pending {
  resolve: (ack: StoreAck) => void;
  reject: (err: Error) => void;
  deadline: number;
}

export interface JsAppenderOptions {
  /** Fail a publish without an ack after this long (default 5000 ms). */
  timeoutMs?: number;
  /** Refuse new publishes beyond this many in flight (default 50 000). */
  maxInFlight?: number;
}

const decoder = new TextDecoder();

export class JsAppender {
  private readonly inbox: string;
  private readonly sub: Subscription;
  private readonly pending = new Map<number, Pending>();
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly timer: NodeJS.Timeout;
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    opts: JsAppenderOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.maxInFlight = opts.maxInFlight ?? 50_000;
    this.inbox = createInbox();
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => this.onReply(err, msg) });
    this.timer = setInterval(() => this.expire(), Math.max(50, Math.min(1000, this.timeoutMs / 4)));
    this.timer.unref();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Makes sure the reply subscription is known to the server before the first publish. */
  ready(): Promise<void> {
    return this.nc.flush();
  }

  publish(subject: string, data: Uint8Array): Promise<StoreAck> {
    if (this.closed) return Promise.reject(unavailable('history store closed'));
    if (this.pending.size >= this.maxInFlight) return Promise.reject(new RotorError(Errors.internal, 'history shard overloaded'));
    const id = this.nextId++;
    return new Promise<StoreAck>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, deadline: Date.now() + this.timeoutMs });
      try {
        this.nc.publish(subject, data, { reply: `${this.inbox}.${id}` });
      } catch (err) {
        this.pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  private onReply(err: NatsError | null, msg: Msg): void {
    if (err !== null) {
      this.failAll(unavailable(`JetStream ack subscription failed: ${err.message}`));
      return;
    }
    const dot = msg.subject.lastIndexOf('.');
    const id = Number(msg.subject.slice(dot + 1));
    const p = this.pending.get(id);
    if (p === undefined) return; // already timed out
    this.pending.delete(id);
    const status = msg.headers?.code ?? 0;
    if (status !== 0 && msg.data.length === 0) {
      // 503: no stream listens on the subject (JetStream down or restarting).
      p.reject(unavailable(`JetStream unavailable (status ${status})`));
      return;
    }
    let parsed: { stream?: string; seq?: number; error?: { code?: number; description?: string } };
    try {
      parsed = JSON.parse(decoder.decode(msg.data)) as typeof parsed;
    } catch (e) {
      p.reject(unavailable(`malformed JetStream ack: ${(e as Error).message}`));
      return;
    }
    if (parsed.error !== undefined || typeof parsed.seq !== 'number' || typeof parsed.stream !== 'string') {
      p.reject(unavailable(`JetStream refused the publication: ${parsed.error?.description ?? 'no sequence in ack'}`));
      return;
    }
    p.resolve({ stream: parsed.stream, seq: parsed.seq });
  }

  private expire(): void {
    const now = Date.now();
    // Insertion order is send order, and every publish has the same timeout: stop at the first
    // one still in time.
    for (const [id, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(id);
      p.reject(unavailable('JetStream ack timed out'));
    }
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.sub.unsubscribe();
    this.failAll(unavailable('history store closed'));
  }
}

function unavailable(message: string): RotorError {
  return new RotorError(Errors.internal, message);
}
