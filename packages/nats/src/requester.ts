// Requester: pipelined request/reply over one inbox wildcard subscription. nats.js `request`
// allocates a timer and a mux entry per call and tops out near 14k requests/s here; this keeps a
// Map of pending ids in send order and one coarse timer, so thousands can be in flight cheaply.
// Every request ends: with the reply, with 503 when nobody listens on the subject, or with a
// timeout — never a hang.
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
}

export class Requester {
  private readonly inbox = createInbox();
  private readonly sub: Subscription;
  private readonly pending = new Map<number, Pending>();
  private readonly timer: NodeJS.Timeout;
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = 5000,
  ) {
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => this.onReply(err, msg) });
    this.timer = setInterval(() => this.expire(), Math.max(20, Math.min(500, timeoutMs / 4)));
    this.timer.unref();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  request(subject: string, data: Uint8Array, timeoutMs = this.timeoutMs): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new RequestError('requester closed', 'closed'));
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, deadline: Date.now() + timeoutMs });
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

  private expire(): void {
    const now = Date.now();
    for (const [id, p] of this.pending) {
      // Mixed timeouts are possible, so check every entry (the map is small and this runs rarely).
      if (p.deadline > now) continue;
      this.pending.delete(id);
      p.reject(new RequestError('request timed out', 'timeout'));
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
    this.failAll(new RequestError('requester closed', 'closed'));
  }
}
