// History shard benchmark: throughput into one shard (100 channels, and a single channel) and
// publish → fan-out latency at a paced rate below the maximum.
//   node --import tsx services/history/bench/shard.bench.ts [--quick]
// Topology: nats-server (JetStream, file storage) + one shard in a child process + this process as
// the api side (ClusterPublisher over NATS request/reply) and as a subscriber (NatsBroker) on
// every channel. Latency is measured from the publish call to the publication's arrival at the
// subscriber: it includes the request hop, the JetStream write and the fan-out, so it bounds the
// shard's own append → fan-out time from above.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HistoryOptions, Publication } from '@rotor/core';
import { startNatsServer } from '@rotor/testkit';
import { ClusterPublisher, closeNats, connectNats, NatsBroker, ShardRouter, Subjects } from '@rotor/nats';

const quick = process.argv.includes('--quick');
const HISTORY: HistoryOptions = { size: 100, ttlMs: 300_000, metaTtlMs: 3_600_000 };
const payload = new Uint8Array(128).fill(120);

const mainTs = fileURLToPath(new URL('../src/main.ts', import.meta.url));

const shardLines: string[] = [];

/** The shard's own publish latency since the previous call (SIGUSR2 → one stdout line). */
async function shardLatency(): Promise<string> {
  const before = shardLines.length;
  shard.kill('SIGUSR2');
  const until = Date.now() + 5000;
  while (shardLines.length === before && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  return shardLines[before] ?? 'no answer';
}

function spawnShard(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', mainTs, '--shard', '0', '--shards', '1', '--nats', url, '--stream-prefix', 'BENCH', '--subject-prefix', 'bench'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('shard did not start')), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.startsWith('latency')) shardLines.push(line);
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`shard exited ${code}`)));
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

await using server = await startNatsServer({ jetstream: true });
const shard = await spawnShard(server.url);
const subjects = new Subjects('bench');
const pubConn = await connectNats({ url: server.url, name: 'bench-api' });
const subConn = await connectNats({ url: server.url, name: 'bench-sub' });
const router = new ShardRouter(pubConn, { shards: 1, subjects, timeoutMs: 10_000 });
const publisher = new ClusterPublisher(router, new NatsBroker(pubConn, { subjects }));
const sub = new NatsBroker(subConn, { subjects });

// Send time by publication index; the index travels in the first 4 bytes of the payload.
let sendTimes: number[] = [];
let delivered = 0;
let latencies: number[] = [];
let recordLatency = false;
sub.setHandler({
  onPublication(channel: string, pub: Publication) {
    delivered++;
    if (recordLatency && pub.data.length >= 4) {
      const idx = new DataView(pub.data.buffer, pub.data.byteOffset, 4).getUint32(0);
      const t = sendTimes[idx];
      if (t !== undefined) latencies.push(performance.now() - t);
    }
    void channel;
  },
  onJoin() {},
  onLeave() {},
});

async function throughput(label: string, channels: string[], total: number, window: number): Promise<number> {
  for (const ch of channels) await sub.subscribe(ch);
  delivered = 0;
  let sent = 0;
  let done = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (sent < total && sent - done < window) {
        const ch = channels[sent % channels.length]!;
        sent++;
        publisher.publish({ channel: ch, data: payload, history: HISTORY }).then(() => {
          done++;
          if (done === total) resolve();
          else pump();
        }, reject);
      }
    };
    pump();
  });
  const dt = (performance.now() - t0) / 1000;
  const rate = total / dt;
  const waitUntil = Date.now() + 10_000;
  while (delivered < total && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 5));
  console.log(`${label}: ${total} publications in ${dt.toFixed(2)} s = ${rate.toFixed(0)}/s acknowledged; fanned out ${delivered}/${total}`);
  return rate;
}

async function latency(label: string, channels: string[], rate: number, seconds: number): Promise<void> {
  for (const ch of channels) await sub.subscribe(ch);
  latencies = [];
  sendTimes = [];
  recordLatency = true;
  await shardLatency(); // reset
  const tickMs = 2;
  const perTick = (rate * tickMs) / 1000;
  const total = Math.round(rate * seconds);
  let sent = 0;
  let credit = 0;
  let failed = 0;
  const t0 = performance.now();
  const pending: Promise<unknown>[] = [];
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      credit += perTick;
      while (credit >= 1 && sent < total) {
        credit--;
        const ch = channels[sent % channels.length]!;
        const data = new Uint8Array(payload);
        new DataView(data.buffer).setUint32(0, sent);
        sendTimes[sent] = performance.now();
        sent++;
        pending.push(publisher.publish({ channel: ch, data, history: HISTORY }).then(() => {}, () => failed++));
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, tickMs);
  });
  await Promise.all(pending);
  const waitUntil = Date.now() + 5000;
  while (latencies.length < total - failed && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 5));
  const elapsed = (performance.now() - t0) / 1000;
  recordLatency = false;
  const sorted = latencies.sort((a, b) => a - b);
  console.log(
    `${label}: offered ${rate}/s for ${elapsed.toFixed(1)} s, ${sorted.length} measured, failed ${failed}; ` +
      `end-to-end publish→delivery p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms, max ${sorted[sorted.length - 1]?.toFixed(2)} ms`,
  );
  console.log(`  shard append→fan-out (request in → reply after fan-out), ms: ${await shardLatency()}`);
}

try {
  const many = Array.from({ length: 100 }, (_, i) => `bench:ch${i}`);
  const one = ['bench:single'];
  const n = quick ? 20_000 : 100_000;
  // Warm-up (stream creation, JIT).
  await throughput('warm-up', many, 5_000, 1000);
  await throughput('100 channels', many, n, 4000);
  await throughput('1 channel', one, quick ? 10_000 : 50_000, 2000);
  for (const rate of [5_000, 10_000, 15_000]) await latency('latency, 100 channels', many, rate, quick ? 2 : 5);
  for (const rate of [2_000, 4_000]) await latency('latency, 1 channel', one, rate, quick ? 2 : 5);
} finally {
  router.close();
  await sub.close();
  await closeNats(pubConn);
  await closeNats(subConn);
  shard.kill('SIGTERM');
  await new Promise((r) => shard.once('exit', r));
}
