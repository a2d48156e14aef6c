// MemoryBroker: the Broker contract (broker.ts) inside one process, for the embedded mode and unit
// tests.
//
// Several MemoryBroker "nodes" may share one MemoryBrokerBus to model a cluster in a test; by
// default each broker has a private bus. Published events go into the bus's single FIFO queue and
// are delivered from one microtask flush, so:
// - delivery is asynchronous: a handler never runs inside publish() (handlers that publish only
//   enqueue; the running flush picks the new events up after the current ones);
// - one FIFO for every channel gives per-channel publish order (and global order on top);
// - subscriptions are looked up at delivery time: an event enqueued before subscribe() resolves
//   may or may not be seen, nothing is delivered to a node after its unsubscribe() resolved.
// A handler that throws breaks the contract; the error goes to `onHandlerError` (default: logged
// to stderr) and delivery of the other events continues.
import type { ClientInfo, Publication } from './types.ts';
import type { Broker, BrokerHandler } from './broker.ts';

const PUB = 0;
const JOIN = 1;
const LEAVE = 2;

interface BusEvent {
  kind: typeof PUB | typeof JOIN | typeof LEAVE;
  channel: string;
  pub: Publication | null;
  epoch: string;
  info: ClientInfo | null;
}

/** The in-process "network" that MemoryBroker nodes publish into and receive from. */
export class MemoryBrokerBus {
  readonly #subscribers = new Map<string, Set<MemoryBroker>>();
  #queue: BusEvent[] = [];
  #scheduled = false;

  /** @internal */
  attach(channel: string, node: MemoryBroker): void {
    let set = this.#subscribers.get(channel);
    if (!set) {
      set = new Set();
      this.#subscribers.set(channel, set);
    }
    set.add(node);
  }

  /** @internal */
  detach(channel: string, node: MemoryBroker): void {
    const set = this.#subscribers.get(channel);
    if (set && set.delete(node) && set.size === 0) this.#subscribers.delete(channel);
  }

  /** Channels with at least one subscribed node. */
  get channelCount(): number {
    return this.#subscribers.size;
  }

  /** @internal */
  enqueue(event: BusEvent): void {
    this.#queue.push(event);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  readonly #flush = (): void => {
    const queue = this.#queue;
    // Handlers may enqueue more events while we iterate; the loop bound is re-read each time.
    for (let i = 0; i < queue.length; i++) {
      const ev = queue[i] as BusEvent;
      queue[i] = undefined as unknown as BusEvent; // let delivered payloads be collected early
      const nodes = this.#subscribers.get(ev.channel);
      if (nodes) for (const node of nodes) node.deliver(ev);
    }
    this.#queue = [];
    this.#scheduled = false;
  };
}

export interface MemoryBrokerOptions {
  /** Share a bus between brokers to model several nodes; default: a private bus. */
  bus?: MemoryBrokerBus;
  onHandlerError?: (err: unknown) => void;
}

export class MemoryBroker implements Broker {
  readonly bus: MemoryBrokerBus;
  readonly #channels = new Set<string>();
  readonly #onHandlerError: (err: unknown) => void;
  #handler: BrokerHandler | null = null;
  #closed = false;

  constructor(options: MemoryBrokerOptions = {}) {
    this.bus = options.bus ?? new MemoryBrokerBus();
    this.#onHandlerError =
      options.onHandlerError ?? ((err) => console.error('MemoryBroker: a broker handler threw', err));
  }

  setHandler(handler: BrokerHandler): void {
    this.#handler = handler;
  }

  subscribe(channel: string): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('broker is closed'));
    if (!this.#channels.has(channel)) {
      this.#channels.add(channel);
      this.bus.attach(channel, this);
    }
    return Promise.resolve();
  }

  unsubscribe(channel: string): Promise<void> {
    if (this.#channels.delete(channel)) this.bus.detach(channel, this);
    return Promise.resolve();
  }

  /** Channels this node is subscribed to. */
  get channels(): ReadonlySet<string> {
    return this.#channels;
  }

  publish(channel: string, pub: Publication, epoch: string): void {
    this.#assertOpen();
    this.bus.enqueue({ kind: PUB, channel, pub, epoch, info: null });
  }

  publishJoin(channel: string, info: ClientInfo): void {
    this.#assertOpen();
    this.bus.enqueue({ kind: JOIN, channel, pub: null, epoch: '', info });
  }

  publishLeave(channel: string, info: ClientInfo): void {
    this.#assertOpen();
    this.bus.enqueue({ kind: LEAVE, channel, pub: null, epoch: '', info });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const channel of this.#channels) this.bus.detach(channel, this);
    this.#channels.clear();
    return Promise.resolve();
  }

  /** @internal Called by the bus for each event of a channel this node is subscribed to. */
  deliver(ev: BusEvent): void {
    const h = this.#handler;
    if (h === null || this.#closed) return;
    try {
      if (ev.kind === PUB) h.onPublication(ev.channel, ev.pub as Publication, ev.epoch);
      else if (ev.kind === JOIN) h.onJoin(ev.channel, ev.info as ClientInfo);
      else h.onLeave(ev.channel, ev.info as ClientInfo);
    } catch (err) {
      this.#onHandlerError(err);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('broker is closed');
  }
}
