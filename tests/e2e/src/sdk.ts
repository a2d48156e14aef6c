// The real centrifuge SDK (JSON and protobuf builds) in Node, with every wait under a deadline and
// every client disconnected when the test ends.
import { Centrifuge } from 'centrifuge';
import type { Subscription, SubscribedContext } from 'centrifuge';
import { Centrifuge as CentrifugeProtobuf } from 'centrifuge/build/protobuf';
import { Collector, deferred, withDeadline } from '@rotor/testkit';
import WebSocket from 'ws';

export type Sdk = typeof Centrifuge;
export const SDK_BUILDS: ReadonlyArray<readonly ['json' | 'protobuf', Sdk]> = [
  ['json', Centrifuge],
  ['protobuf', CentrifugeProtobuf as unknown as Sdk],
];

interface TestContext {
  after(fn: () => void | Promise<void>): void;
}

/** Publication data as a value: the protobuf build hands out the raw JSON bytes. */
export function dataValue(data: unknown): unknown {
  return data instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(data)) : data;
}

export interface Subscriber {
  client: Centrifuge;
  sub: Subscription;
  publications: Collector<{ data: unknown; offset: number | undefined }>;
  subscribed: Collector<SubscribedContext>;
  /** Codes the client reported on reconnecting / disconnecting (server close codes). */
  connecting: Collector<number>;
  disconnected: Collector<number>;
}

/** A client subscribed to `channel` (resolves once subscribed). */
export async function subscriber(t: TestContext, Build: Sdk, url: string, channel: string, token?: string, timeoutMs = 10_000): Promise<Subscriber> {
  const client = new Build(url, { websocket: WebSocket, ...(token === undefined ? {} : { token }), minReconnectDelay: 50, maxReconnectDelay: 500 });
  t.after(() => client.disconnect());
  const s: Subscriber = {
    client,
    sub: client.newSubscription(channel),
    publications: new Collector('publications'),
    subscribed: new Collector('subscribed events'),
    connecting: new Collector('connecting codes'),
    disconnected: new Collector('disconnected codes'),
  };
  const failed = deferred<never>();
  client.on('connecting', (ctx) => s.connecting.push(ctx.code));
  client.on('disconnected', (ctx) => {
    s.disconnected.push(ctx.code);
    failed.reject(new Error(`disconnected: ${ctx.code} ${ctx.reason}`));
  });
  s.sub.on('error', (ctx) => failed.reject(new Error(`subscription error: ${ctx.error.message}`)));
  s.sub.on('publication', (ctx) => s.publications.push({ data: dataValue(ctx.data), offset: ctx.offset }));
  s.sub.on('subscribed', (ctx) => s.subscribed.push(ctx));
  s.sub.subscribe();
  client.connect();
  failed.promise.catch(() => undefined);
  await withDeadline(Promise.race([s.subscribed.waitFor(1, timeoutMs), failed.promise]), timeoutMs, `subscription to ${channel}`);
  return s;
}
