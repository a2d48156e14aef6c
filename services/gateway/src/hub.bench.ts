// Benchmark of the hub's fan-out path. Run:
//   node --import tsx services/gateway/src/hub.bench.ts [--smoke]
// --smoke: small sizes (CI checks that it still runs). Wall-clock figures on this machine only.
//
// A. JavaScript cost per publication inside the hub (encode once per format, coalesce, hand one
//    frame per topic to the sink), for bursts of 1–256 publications per event-loop turn, against
//    the per-subscriber encoding it replaces.
// B. End to end over real sockets: a uWS app, S WebSocket subscribers in this process, P
//    publications from the memory broker in bursts; delivered messages per second for the two
//    flush schedules (microtask vs setImmediate).
import { MemoryBroker } from '@rotor/core';
import type { Publication } from '@rotor/core';
import { encodeReply } from '@rotor/proto';
import WebSocket from 'ws';
import { Format, Hub, MemberState } from './hub.ts';
import type { FlushMode, HubMember } from './hub.ts';
import { GatewayMetrics } from './metrics.ts';
import { protoCodec } from './proto-codec.ts';
import { loadUws } from './uws.ts';
import type { WebSocket as UwsSocket } from './uws.ts';

const smoke = process.argv.includes('--smoke');
const codec = protoCodec({ maxFrameBytes: 65536 });
const payload = new TextEncoder().encode(JSON.stringify({ text: 'x'.repeat(100) }));

class CountingMember implements HubMember {
  hubState: MemberState = MemberState.none;
  heldFrom = 0;
  readonly positioned = false;
  readonly pushJoinLeave = false;
  constructor(readonly format: Format) {}
  subscribeTopic(): void {}
  unsubscribeTopic(): void {}
  sendFrame(): void {}
  checkSlow(): void {}
}

async function partA(): Promise<void> {
  const total = smoke ? 20_000 : 400_000;
  for (const burst of [1, 16, 256]) {
    const broker = new MemoryBroker();
    let frames = 0;
    let bytes = 0;
    const hub = new Hub({
      broker,
      sink: {
        publish: (_t, f) => {
          frames++;
          bytes += f.byteLength;
        },
      },
      encoder: codec,
      events: { insufficientState: () => undefined, inappropriateProtocol: () => undefined },
      metrics: new GatewayMetrics(),
      clock: { now: () => 0 },
      flushMode: 'microtask',
    });
    const ch = hub.join('bench', new CountingMember(Format.json));
    await ch.ready;
    for (const m of [...ch.members]) hub.completeJoin(ch, m, null);
    const p = new CountingMember(Format.protobuf);
    hub.join('bench', p);
    hub.completeJoin(ch, p, null);
    const start = process.hrtime.bigint();
    let offset = 0;
    for (let i = 0; i < total; i += burst) {
      for (let j = 0; j < burst; j++) {
        const pub: Publication = { offset: ++offset, data: payload };
        hub.onPublication('bench', pub, 'E');
      }
      await Promise.resolve();
    }
    const ns = Number(process.hrtime.bigint() - start);
    console.log(
      `A hub, both formats, burst ${String(burst).padStart(3)}   ${(ns / total).toFixed(0).padStart(6)} ns/publication  ` +
        `${frames} frames, ${(bytes / total).toFixed(0)} B/publication`,
    );
  }
  // Baseline: encoding the push per subscriber (what a naive server does), 100 subscribers.
  const subs = 100;
  const n = smoke ? 500 : 5000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < subs; s++) encodeReply({ push: { channel: 'bench', pub: { data: payload, offset: i + 1 } } }, 'json');
  }
  const ns = Number(process.hrtime.bigint() - start);
  console.log(`A baseline: encode per subscriber (${subs} subs)    ${(ns / n).toFixed(0).padStart(6)} ns/publication`);
}

async function partB(flushMode: FlushMode): Promise<void> {
  const subscribers = smoke ? 20 : 200;
  const publications = smoke ? 2000 : 20_000;
  const burst = 32;
  const uws = loadUws();
  const app = uws.App();
  const broker = new MemoryBroker();
  const hub = new Hub({
    broker,
    sink: { publish: (t, f, bin) => void app.publish(t, f, bin, false) },
    encoder: codec,
    events: { insufficientState: () => undefined, inappropriateProtocol: () => undefined },
    metrics: new GatewayMetrics(),
    clock: { now: () => 0 },
    flushMode,
    // As the gateway sets it for the default queue_max_size (1 MiB): a check per 256 KiB.
    slowCheckBytes: 256 * 1024,
  });
  broker.setHandler(hub);
  let checks = 0;
  const sockets: Array<UwsSocket<{ id: number }>> = [];
  app.ws<{ id: number }>('/*', {
    idleTimeout: 0,
    maxBackpressure: 64 * 1024 * 1024,
    open: (ws) => void sockets.push(ws),
  });
  const port = await new Promise<number>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (t) => (t ? resolve(uws.us_socket_local_port(t)) : reject(new Error('listen failed')))),
  );
  let received = 0;
  const clients: WebSocket[] = [];
  await Promise.all(
    Array.from({ length: subscribers }, () => {
      const c = new WebSocket(`ws://127.0.0.1:${port}/`);
      clients.push(c);
      c.on('message', (data: Buffer) => {
        // Count messages without decoding: JSON frames join messages with '\n'.
        let k = 1;
        for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, i + 1)) k++;
        received += k;
      });
      return new Promise((resolve) => c.once('open', resolve));
    }),
  );
  while (sockets.length < subscribers) await new Promise((r) => setTimeout(r, 5));
  const ch = hub.join('bench', new CountingMember(Format.json));
  await ch.ready;
  // Attach the real sockets as members that subscribe to the channel's JSON topic.
  for (const ws of sockets) {
    const m: HubMember = {
      format: Format.json,
      positioned: false,
      pushJoinLeave: false,
      hubState: MemberState.none,
      heldFrom: 0,
      subscribeTopic: (t) => void ws.subscribe(t),
      unsubscribeTopic: (t) => void ws.unsubscribe(t),
      sendFrame: () => undefined,
      checkSlow: () => {
        checks++;
        if (ws.getBufferedAmount() > 1024 * 1024) throw new Error('a bench subscriber fell behind');
      },
    };
    hub.join('bench', m);
    hub.completeJoin(ch, m, null);
  }
  const expected = subscribers * publications;
  const start = process.hrtime.bigint();
  for (let i = 0; i < publications; i += burst) {
    for (let j = i; j < Math.min(publications, i + burst); j++) broker.publish('bench', { offset: 0, data: payload }, '');
    await new Promise((r) => setImmediate(r));
  }
  const deadline = Date.now() + 60_000;
  while (received < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `B uWS fan-out, flush ${flushMode.padEnd(9)} ${subscribers} subs × ${publications} pubs: ` +
      `${(received / secs / 1e6).toFixed(2)} M msgs/s delivered (${received}/${expected}), ${checks} buffer checks`,
  );
  for (const c of clients) c.terminate();
  (app as unknown as { close(): void }).close();
  await broker.close();
  if (received < expected) throw new Error(`lost messages: ${received}/${expected}`);
}

await partA();
await partB('microtask');
await partB('immediate');
