import { startNatsServer } from '@rotor/testkit';
import { connect, StorageType, DiscardPolicy, RetentionPolicy, createInbox } from 'nats';
await using srv = await startNatsServer({ jetstream: true });
const nc = await connect({ servers: srv.url });
const jsm = await nc.jetstreamManager();
await jsm.streams.add({ name: 'T', subjects: ['t.>'], storage: StorageType.File, max_msgs_per_subject: 101, max_age: 3600 * 1e9, discard: DiscardPolicy.Old, num_replicas: 1 });
const payload = new Uint8Array(128);
const inbox = createInbox();
let acked = 0; let done: () => void = () => {};
const dec = new TextDecoder();
let sample = '';
nc.subscribe(inbox + '.*', { callback: (_e, m) => { acked++; if (!sample) sample = dec.decode(m.data); if (acked === target) done(); } });
let target = 0;
for (const n of [20000, 50000]) {
  acked = 0; target = n;
  const p = new Promise<void>((r) => (done = r));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) nc.publish(`t.c${i % 100}`, payload, { reply: `${inbox}.${i}` });
  await p;
  const dt = performance.now() - t0;
  console.log(`raw publish+reply ${n}: ${(n / dt * 1000).toFixed(0)}/s`);
}
console.log(sample);
// windowed: max 2000 in flight
{
  const n = 50000; acked = 0; target = n; let sent = 0;
  const p = new Promise<void>((r) => (done = r));
  const t0 = performance.now();
  const pump = () => { while (sent < n && sent - acked < 4000) { nc.publish(`t.c${sent % 100}`, payload, { reply: `${inbox}.${sent}` }); sent++; } };
  const iv = setInterval(pump, 1);
  pump();
  await p; clearInterval(iv);
  console.log(`windowed ${n}: ${(n / (performance.now() - t0) * 1000).toFixed(0)}/s`);
}
await nc.close();
