// Benchmark of the client publish path inside one gateway, without sockets: a connected Session
// receives publish command frames (as uWS hands them over), and each goes through command decoding,
// permission checks, the injected Publisher (ChannelSequencer over the memory history and broker),
// the broker's delivery to the Hub, push encoding, per-turn coalescing and the topic sink — the
// same code that runs in `rotor start`. Reported: CPU time of this process (its GC threads
// included) per publication, which stays comparable when the machine is shared (wall-clock
// figures do not).
//
//   node --max-semi-space-size=4 --import tsx services/gateway/src/publish.bench.ts [--smoke] [--only TEXT]
//
// Cases: JSON and protobuf publishers; one publication per frame (what the SDKs send) in bursts
// per event-loop turn; channels with subscribers in both formats (so each publication is encoded
// twice); with and without history.
import { ChannelRules, ChannelSequencer, MemoryBroker, MemoryHistoryStore, loadConfig, silentLogger } from '@rotor/core';
import type { RotorConfig } from '@rotor/core';
import { encodeCommand } from '@rotor/proto';
import { GatewayContext } from './context.ts';
import type { GatewayAdapters } from './context.ts';
import { Format, Hub, MemberState } from './hub.ts';
import type { HubMember } from './hub.ts';
import { GatewayMetrics } from './metrics.ts';
import { protoCodec } from './proto-codec.ts';
import { Session, SessionState } from './session.ts';
import type { WebSocket } from './uws.ts';
import type { SocketData } from './server.ts';

const smoke = process.argv.includes('--smoke');
/** --only TEXT: just the cases whose name contains TEXT (e.g. "json", "history", "burst 32"). */
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? (process.argv[onlyAt + 1] ?? '') : '';

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

/** The few uWS socket methods a Session calls, counting what it writes. */
function fakeSocket(counter: { frames: number; bytes: number }): WebSocket<SocketData> {
  return {
    cork(cb: () => void) {
      cb();
      return this;
    },
    send(msg: Uint8Array) {
      counter.frames++;
      counter.bytes += msg.byteLength;
      return 1;
    },
    getBufferedAmount: () => 0,
    end: () => undefined,
  } as unknown as WebSocket<SocketData>;
}

interface Case {
  name: string;
  format: 'json' | 'protobuf';
  history: boolean;
  burst: number;
}

async function run(c: Case, total: number): Promise<{ cpuNs: number; wallNs: number; frames: number; replies: number }> {
  const channelCfg = c.history
    ? { history_size: 100, history_ttl: '60s', allow_publish_for_client: true, allow_subscribe_for_client: true }
    : { allow_publish_for_client: true, allow_subscribe_for_client: true };
  const { config } = loadConfig({ env: { ROTOR_CHANNEL: JSON.stringify({ without_namespace: channelCfg }) }, hostname: 'bench' });
  const broker = new MemoryBroker();
  const history = new MemoryHistoryStore();
  const publisher = new ChannelSequencer({ history, broker, sweepIntervalMs: 0 });
  const metrics = new GatewayMetrics();
  const codec = protoCodec({ maxFrameBytes: 65536 });
  let topicFrames = 0;
  const hub = new Hub({
    broker,
    sink: { publish: () => void topicFrames++ },
    encoder: codec,
    events: { insufficientState: () => undefined, inappropriateProtocol: () => undefined },
    metrics,
    clock: { now: () => 0 },
  });
  broker.setHandler(hub);
  const adapters = { broker, history, publisher } as unknown as GatewayAdapters;
  const gw = new GatewayContext(config as RotorConfig, adapters, new ChannelRules(config.channel), hub, codec, metrics, { now: () => Date.now() }, silentLogger(), 'bench', '0');
  // Subscribers in both formats on the channel: every publication is encoded for each.
  const channel = 'bench.0';
  for (const f of [Format.json, Format.protobuf]) {
    const m = new CountingMember(f);
    const ch = hub.join(channel, m);
    await ch.ready;
    hub.completeJoin(ch, m, null);
  }
  const out = { frames: 0, bytes: 0 };
  const session = new Session(gw, c.format === 'protobuf' ? Format.protobuf : Format.json);
  session.ws = fakeSocket(out);
  session.user = 'bench-user';
  session.state = SessionState.connected;
  const payload = new TextEncoder().encode(`"${'x'.repeat(126)}"`);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 1024; i++) frames.push(encodeCommand({ id: i + 1, publish: { channel, data: payload } }, c.format));
  // One burst per event-loop turn: the hub's flush (queued while the burst ran) comes before the
  // second of these.
  const turn = () => new Promise<void>((r) => setImmediate(() => setImmediate(r)));
  // Warm up the code paths first.
  for (let i = 0; i < Math.min(total, 20_000); i += c.burst) {
    for (let j = 0; j < c.burst; j++) session.receive(frames[(i + j) & 1023]!);
    await turn();
  }
  const frames0 = topicFrames;
  const replies0 = out.frames;
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  for (let i = 0; i < total; i += c.burst) {
    for (let j = 0; j < c.burst; j++) session.receive(frames[(i + j) & 1023]!);
    await turn();
  }
  const wallNs = Number(process.hrtime.bigint() - wall0);
  const cpu = process.cpuUsage(cpu0);
  publisher.close();
  await broker.close();
  return { cpuNs: (cpu.user + cpu.system) * 1000, wallNs, frames: topicFrames - frames0, replies: out.frames - replies0 };
}

const total = smoke ? 5_000 : 100_000;
const rounds = smoke ? 1 : 5;
const cases: Case[] = [];
const pushCase = (c: Case): void => {
  if (c.name.includes(only)) cases.push(c);
};
for (const format of ['json', 'protobuf'] as const) {
  for (const history of [false, true]) {
    for (const burst of [1, 32]) pushCase({ name: `${format.padEnd(8)} ${history ? 'history   ' : 'no history'} burst ${String(burst).padStart(2)}`, format, history, burst });
  }
}
// Rounds interleave the cases, and the minimum is reported: the least disturbed run.
const results = cases.map(() => [] as Awaited<ReturnType<typeof run>>[]);
for (let round = 0; round < rounds; round++) {
  for (const [i, c] of cases.entries()) results[i]!.push(await run(c, total));
}
for (const [i, c] of cases.entries()) {
  const rs = results[i]!;
  const cpu = rs.map((r) => r.cpuNs / total).sort((a, b) => a - b);
  const r = rs[0]!;
  console.log(
    `${c.name}  ${cpu[0]!.toFixed(0).padStart(5)} ns CPU/publication (min of ${rounds}; median ${cpu[Math.floor(cpu.length / 2)]!.toFixed(0)})  ` +
      `${(total / Math.max(1, r.frames / 2)).toFixed(1)} publications per topic frame, ${(r.replies / total).toFixed(2)} reply writes per publication`,
  );
}
