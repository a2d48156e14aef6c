// Benchmark: BucketScheduler against one setTimeout per item, for the gateway's per-connection
// deadlines. Run: `node --import tsx packages/core/src/bucket-scheduler.bench.ts [--smoke]`.
// --smoke runs small sizes (a CI check that it still works), without it the sizes model a gateway
// with 200k connections. Timings are wall-clock per operation on this machine; compare runs on the
// same machine only.
import { BucketScheduler } from './bucket-scheduler.ts';
import { ManualClock } from './testing/manual-clock.ts';

const smoke = process.argv.includes('--smoke');
const N = smoke ? 20_000 : 200_000;

interface Session {
  id: number;
  pingAt: number;
}

function time(label: string, ops: number, fn: () => void): void {
  const start = process.hrtime.bigint();
  fn();
  const ns = Number(process.hrtime.bigint() - start);
  console.log(`${label.padEnd(44)} ${(ns / ops).toFixed(1).padStart(8)} ns/op  ${((ops / ns) * 1e9 / 1e6).toFixed(2).padStart(7)} Mops/s`);
}

const sessions: Session[] = Array.from({ length: N }, (_, id) => ({ id, pingAt: 0 }));
const clock = new ManualClock(0);
let fired = 0;
const scheduler = new BucketScheduler<Session>({ clock, autoStart: false, onDue: () => void fired++ });

// Deadlines spread over 25 s like first pings; re-arming models pings rescheduled after activity.
time(`schedule ${N} (25 s spread)`, N, () => {
  for (const s of sessions) scheduler.schedule(s, (s.id * 7919) % 25_000);
});
time(`reschedule ${N} (+25 s)`, N, () => {
  for (const s of sessions) scheduler.schedule(s, 25_000 + ((s.id * 7919) % 25_000));
});
time(`cancel ${N / 2}`, N / 2, () => {
  for (let i = 0; i < N; i += 2) scheduler.cancel(sessions[i] as Session);
});
time(`tick through 60 s, fire ${N / 2}`, N / 2, () => {
  for (let t = 1000; t <= 60_000; t += 1000) {
    clock.set(t);
    scheduler.tick();
  }
});
if (fired !== N / 2) throw new Error(`expected ${N / 2} fired, got ${fired}`);

// Baseline: one timer per item (what the scheduler replaces).
const timers: NodeJS.Timeout[] = new Array(N);
time(`setTimeout ${N} (baseline)`, N, () => {
  for (let i = 0; i < N; i++) timers[i] = setTimeout(noop, 25_000 + i);
});
time(`clearTimeout + setTimeout ${N} (baseline)`, N, () => {
  for (let i = 0; i < N; i++) {
    clearTimeout(timers[i]);
    timers[i] = setTimeout(noop, 50_000 + i);
  }
});
for (const t of timers) clearTimeout(t);

const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const memScheduler = new BucketScheduler<Session>({ clock, autoStart: false, onDue: noop });
for (const s of sessions) memScheduler.schedule(s, 100_000 + (s.id % 25_000));
gc?.();
const heapAfter = process.memoryUsage().heapUsed;
if (gc) console.log(`${'heap per scheduled item'.padEnd(44)} ${((heapAfter - heapBefore) / N).toFixed(0).padStart(8)} bytes`);
else console.log('heap per scheduled item: run with --expose-gc');
memScheduler.close();
scheduler.close();

function noop(): void {}
