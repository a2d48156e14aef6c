// What the unidirectional transports cost (emulation/uni.ts), in CPU nanoseconds per topic frame:
// - the WebSocket fan-out's only new work, the sink's `uniTopics.size` check while no uni socket
//   is subscribed (sink with the check vs. the sink without it, app.publish stubbed);
// - a frame's unwrap and framing for uni members (done once per frame for all of them).
//
//   node --import tsx services/gateway/src/uni.bench.ts [--smoke]
import { EmulatedTopics } from './emulation/stream.ts';
import { UniTopics, joinPushes, sseEvents, unwrapFrame } from './emulation/uni.ts';

const smoke = process.argv.includes('--smoke');
const N = smoke ? 20_000 : 5_000_000;
const ROUNDS = smoke ? 1 : 5;

let published = 0;
const app = {
  publish(_topic: string, frame: Uint8Array): void {
    published += frame.length;
  },
};
const emulated = new EmulatedTopics(1 << 20);
const uni = new UniTopics(1 << 20);
const without = {
  publish(topic: string, frame: Uint8Array, isBinary: boolean): void {
    app.publish(topic, frame);
    if (emulated.size !== 0) emulated.publish(topic, frame, isBinary);
  },
};
const withUni = {
  publish(topic: string, frame: Uint8Array, isBinary: boolean): void {
    app.publish(topic, frame);
    if (emulated.size !== 0) emulated.publish(topic, frame, isBinary);
    if (uni.size !== 0) uni.publish(topic, frame, isBinary);
  },
};

const enc = new TextEncoder();
const push = '{"push":{"channel":"news:1","pub":{"data":{"price":101.25,"symbol":"ABC"},"offset":12345}}}';
const one = enc.encode(push);
const ten = enc.encode(Array.from({ length: 10 }, () => push).join('\n'));
const topics = Array.from({ length: 64 }, (_, i) => `news:${i}|p|j`);

function cpuNs(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const d = process.cpuUsage(start);
  return ((d.user + d.system) * 1000) / N;
}

function sinkRun(sink: typeof without): () => void {
  return () => {
    for (let i = 0; i < N; i++) sink.publish(topics[i & 63]!, one, false);
  };
}

const rows: Record<string, number[]> = { 'sink without uni check': [], 'sink with uni check (no uni member)': [], 'unwrap 1-push frame': [], 'unwrap 10-push frame': [], 'unwrap+lines 10-push frame': [], 'unwrap+sse 10-push frame': [] };
for (let r = 0; r < ROUNDS; r++) {
  rows['sink without uni check']!.push(cpuNs(sinkRun(without)));
  rows['sink with uni check (no uni member)']!.push(cpuNs(sinkRun(withUni)));
  rows['unwrap 1-push frame']!.push(cpuNs(() => {
    for (let i = 0; i < N; i++) published += unwrapFrame(one).length;
  }));
  rows['unwrap 10-push frame']!.push(cpuNs(() => {
    for (let i = 0; i < N; i++) published += unwrapFrame(ten).length;
  }));
  rows['unwrap+lines 10-push frame']!.push(cpuNs(() => {
    for (let i = 0; i < N; i++) published += joinPushes(unwrapFrame(ten), true).length;
  }));
  rows['unwrap+sse 10-push frame']!.push(cpuNs(() => {
    for (let i = 0; i < N; i++) published += sseEvents(unwrapFrame(ten)).length;
  }));
}
for (const [name, v] of Object.entries(rows)) {
  const sorted = [...v].sort((a, b) => a - b);
  console.log(`${name.padEnd(40)} median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ns/frame (rounds: ${v.map((x) => x.toFixed(1)).join(' ')})`);
}
if (published < 0) console.log(published);
