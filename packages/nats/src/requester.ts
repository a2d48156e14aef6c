// Requester: pipelined request/reply over one inbox wildcard subscription. nats.js `request`
// allocates a timer and a mux entry per call and tops out near 14k requests/s here; this keeps a
// Map of pending ids in send order and one coarse timer, so thousands can be in flight cheaply.
// Every request ends: with the reply, with 503 when nobody listens on the subject, or with a
// timeout — never a hang.
//
// A responder that dies (kill -9) leaves its requests unanswered until their timeout. With
// `probeAfterMs`, a subject whose oldest request has waited that long gets a probe: an empty
// message with a reply subject. The responder may answer it with anything (an error included);
// what matters is NATS's 503 "no responders", which proves that nobody listens on the subject
// any more, so every request sent there before the probe fails at once ('no-responders') instead
// of waiting out the timeout. A slow but live responder costs one probe per subject per period.
import { createInbox, type Msg, type NatsConnection, type NatsError, type Subscription } from 'nats';

export class RequestError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'no-responders' | 'closed' | 'failed',
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

interface Pending {
  resolve: (data: Uint8Array) => void;
  reject: (err: Error) => void;
  deadline: number;
  subject: string;
  sentAt: number;
}

const EMPTY = new Uint8Array(0);

export class Requester {
  private readonly inbox = createInbox();
  private readonly sub: Subscription;
  private readonly pending = new Map<number, Pending>();
  private readonly timer: NodeJS.Timeout;
  /** Subject → when its last probe was sent (at most one probe per subject per probeAfterMs). */
  private readonly probed = new Map<string, number>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = 5000,
    /** 0: no probes. */
    private readonly probeAfterMs = 0,
  ) {
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => this.onReply(err, msg) });
    const period = probeAfterMs > 0 ? Math.min(timeoutMs / 4, probeAfterMs / 2) : timeoutMs / 4;
    this.timer = setInterval(() => this.tick(), Math.max(20, Math.min(500, period)));
    this.timer.unref();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  request(subject: string, data: Uint8Array, timeoutMs = this.timeoutMs): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new RequestError('requester closed', 'closed'));
    const id = this.nextId++;
    const now = Date.now();
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, deadline: now + timeoutMs, subject, sentAt: now });
      try {
        this.nc.publish(subject, data, { reply: `${this.inbox}.${id}` });
      } catch (err) {
        this.pending.delete(id);
        reject(new RequestError((err as Error).message, 'failed'));
      }
    });
  }

  private onReply(err: NatsError | null, msg: Msg): void {
    if (err !== null) {
      this.failAll(new RequestError(err.message, 'failed'));
      return;
    }
    const id = Number(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    const status = msg.headers?.code ?? 0;
    if (status === 503) p.reject(new RequestError('no responders', 'no-responders'));
    else if (status !== 0 && msg.data.length === 0) p.reject(new RequestError(`status ${status}`, 'failed'));
    else p.resolve(msg.data);
  }

  private tick(): void {
    const now = Date.now();
    let stale: Set<string> | null = null;
    for (const [id, p] of this.pending) {
      // Mixed timeouts are possible, so check every entry (the map is small and this runs rarely).
      if (p.deadline <= now) {
        this.pending.delete(id);
        p.reject(new RequestError('request timed out', 'timeout'));
      } else if (this.probeAfterMs > 0 && now - p.sentAt >= this.probeAfterMs && now - (this.probed.get(p.subject) ?? 0) >= this.probeAfterMs) {
        (stale ??= new Set()).add(p.subject);
      }
    }
    if (stale !== null) for (const subject of stale) this.probe(subject, now);
  }

  /** Asks NATS whether anyone still listens on `subject` (see the header). */
  private probe(subject: string, now: number): void {
    this.probed.set(subject, now);
    const probeId = this.nextId;
    this.request(subject, EMPTY, this.probeAfterMs).then(
      () => undefined,
      (err: unknown) => {
        if (!(err instanceof RequestError) || err.kind !== 'no-responders') return;
        for (const [id, p] of this.pending) {
          if (p.subject !== subject || id > probeId) continue;
          this.pending.delete(id);
          p.reject(new RequestError('no responders (the responder went away)', 'no-responders'));
        }
      },
    );
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
    this.probed.clear();
    this.sub.unsubscribe();
    this.failAll(new RequestError('requester closed', 'closed'));
  }
}
