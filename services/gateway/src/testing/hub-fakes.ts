// Fakes for hub unit tests: a readable encoder, topics modelled in memory, members that record
// what they receive.
import type { ClientInfo, Publication } from '@rotor/core';
import { Format, MemberState } from '../hub.ts';
import type { HubEncoder, HubMember, TopicSink } from '../hub.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Readable fake encodings: "P<offset>:<data>", "J<client>", "L<client>"; frames join with "\n". */
export class FakeEncoder implements HubEncoder {
  calls = [0, 0];
  invalidJson = false;
  prepare(channel: string): string {
    return channel;
  }
  publication(_channel: unknown, pub: Publication, format: Format): Uint8Array {
    this.calls[format]!++;
    if (format === Format.json && this.invalidJson) throw new Error('not JSON');
    return enc.encode(`P${pub.offset}:${dec.decode(pub.data)}`);
  }
  join(_c: unknown, info: ClientInfo): Uint8Array {
    return enc.encode(`J${info.client}`);
  }
  leave(_c: unknown, info: ClientInfo): Uint8Array {
    return enc.encode(`L${info.client}`);
  }
  frame(parts: readonly Uint8Array[]): Uint8Array {
    return enc.encode(parts.map((p) => dec.decode(p)).join('\n'));
  }
}

/** Models uWS topics: a frame reaches the members subscribed at publish time. */
export class FakeSink implements TopicSink {
  readonly topics = new Map<string, Set<Member>>();
  frames = 0;
  publish(topic: string, frame: Uint8Array): void {
    this.frames++;
    for (const m of this.topics.get(topic) ?? []) m.frames.push(dec.decode(frame));
  }
}

export class Member implements HubMember {
  hubState: MemberState = MemberState.none;
  heldFrom = 0;
  readonly frames: string[] = [];
  constructor(
    private readonly sink: FakeSink,
    readonly format: Format,
    readonly positioned: boolean,
    readonly pushJoinLeave = false,
  ) {}
  subscribeTopic(topic: string): void {
    let set = this.sink.topics.get(topic);
    if (!set) this.sink.topics.set(topic, (set = new Set()));
    set.add(this);
  }
  unsubscribeTopic(topic: string): void {
    this.sink.topics.get(topic)?.delete(this);
  }
  sendFrame(frame: Uint8Array): void {
    this.frames.push(dec.decode(frame));
  }
  /** Slow-consumer checks the hub asked for. */
  slowChecks = 0;
  checkSlow(): void {
    this.slowChecks++;
  }
  /** Every message received, in order. */
  get messages(): string[] {
    return this.frames.flatMap((f) => f.split('\n'));
  }
}
