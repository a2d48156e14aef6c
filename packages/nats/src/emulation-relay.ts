// NatsEmulationRelay: carries /emulation requests (PROTOCOL.md §6.1) between gateway processes.
// In cluster mode several gateways share one port, so a client's /emulation POST may land on a
// gateway other than the one holding its stream. Each gateway answers requests on
// `<prefix>.emu.<its node id>`; `forward` is a NATS request there: the owner replies once it has
// handed the commands to the session, and "no responders" means no live gateway has that id
// (the HTTP side answers 404 and the SDK reconnects).
//
// Message: [session length: 1 byte][session: UTF-8][data: the commands, as the client sent them].
// Structurally the EmulationRelay of @rotor/gateway (no dependency between the two packages).
import type { Msg, NatsConnection, NatsError, Subscription } from 'nats';
import { ErrorCode } from 'nats';
import { Subjects } from './subjects.ts';

export interface NatsEmulationRelayOptions {
  subjects?: Subjects;
  /** How long a forwarded request may wait for the owning gateway (default 5000 ms). */
  timeoutMs?: number;
  onError?: (err: unknown, context: string) => void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEmulationMessage(session: string, data: Uint8Array): Uint8Array {
  const s = encoder.encode(session);
  if (s.length > 255) throw new RangeError('emulation session id longer than 255 bytes');
  const out = new Uint8Array(1 + s.length + data.length);
  out[0] = s.length;
  out.set(s, 1);
  out.set(data, 1 + s.length);
  return out;
}

export function decodeEmulationMessage(msg: Uint8Array): { session: string; data: Uint8Array } | null {
  if (msg.length < 1) return null;
  const n = msg[0]!;
  if (msg.length < 1 + n) return null;
  return { session: decoder.decode(msg.subarray(1, 1 + n)), data: msg.subarray(1 + n) };
}

export class NatsEmulationRelay {
  private readonly subjects: Subjects;
  private readonly timeoutMs: number;
  private readonly onError: (err: unknown, context: string) => void;

  constructor(
    private readonly nc: NatsConnection,
    opts: NatsEmulationRelayOptions = {},
  ) {
    this.subjects = opts.subjects ?? new Subjects();
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.onError = opts.onError ?? ((err, context) => console.error(`emulation relay: ${context}`, err));
  }

  async listen(node: string, deliver: (session: string, data: Uint8Array) => void): Promise<() => void> {
    const subject = this.subjects.emulation(node);
    if (subject === null) throw new Error(`node id ${JSON.stringify(node)} cannot be a NATS subject token`);
    const sub: Subscription = this.nc.subscribe(subject, {
      callback: (err: NatsError | null, msg: Msg) => {
        if (err !== null) return this.onError(err, 'emulation subscription');
        const m = decodeEmulationMessage(msg.data);
        if (m === null) {
          this.onError(new Error('malformed emulation message'), 'emulation request');
        } else {
          try {
            deliver(m.session, m.data);
          } catch (e) {
            this.onError(e, 'emulation delivery');
          }
        }
        // Answered either way: the request reached the node, which is what the sender asks.
        if (msg.reply) msg.respond(new Uint8Array(0));
      },
    });
    await this.nc.flush();
    return () => sub.unsubscribe();
  }

  async forward(node: string, session: string, data: Uint8Array): Promise<boolean> {
    const subject = this.subjects.emulation(node);
    if (subject === null) return false;
    try {
      await this.nc.request(subject, encodeEmulationMessage(session, data), { timeout: this.timeoutMs });
      return true;
    } catch (err) {
      if ((err as NatsError).code === ErrorCode.NoResponders) return false;
      throw err;
    }
  }
}
