// Memory per idle connection. Run:
//   node --import tsx services/gateway/src/memory.bench.ts [connections=10000] [--subscribe] [--smoke]
//     [--settle <ms>]            idle wait before each sample (V8 gives back the young generation)
//     [--spaces]                 also print the growth of each V8 heap space
//     [--heap-snapshot <file>]   write a V8 heap snapshot of the gateway after the sample
//     [--server-flag <flag>]...  node/V8 flag for the gateway process, e.g. --max-semi-space-size=4
// A gateway runs in a child process (so client sockets do not count); this process opens the
// connections, connects each (JWT), optionally subscribes each to one of 100 channels, answers the
// pings, and reports the child's RSS and JS heap growth per connection after GC.
import { fork } from 'node:child_process';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import {
  ChannelSequencer,
  JoseTokenVerifier,
  MemoryBroker,
  MemoryControlBus,
  MemoryHistoryStore,
  MemoryPresenceStore,
  defaultConfig,
  signHmacToken,
  silentLogger,
} from '@rotor/core';
import type { RotorConfig } from '@rotor/core';
import { startGateway } from './gateway.ts';

const SECRET = 'memory-bench-secret';

interface Sample {
  rss: number;
  heap: number;
  heapTotal: number;
  /** Physical size per V8 heap space. */
  spaces: Record<string, number>;
}

async function server(): Promise<void> {
  const base = defaultConfig('bench') as RotorConfig;
  const config: RotorConfig = {
    ...base,
    httpServer: { address: '127.0.0.1', port: 0 },
    client: {
      ...base.client,
      token: { ...base.client.token, hmacSecretKey: SECRET },
      staleCloseDelayMs: 600_000,
    },
    channel: { ...base.channel, withoutNamespace: { ...base.channel.withoutNamespace, allowSubscribeForClient: true } },
  };
  const broker = new MemoryBroker();
  const history = new MemoryHistoryStore({ sweepIntervalMs: 0 });
  const gw = await startGateway({
    config,
    broker,
    history,
    presence: new MemoryPresenceStore({ sweepIntervalMs: 0 }),
    publisher: new ChannelSequencer({ history, broker, sweepIntervalMs: 0 }),
    controlBus: new MemoryControlBus(),
    tokenVerifier: new JoseTokenVerifier(config.client),
    log: silentLogger(),
  });
  const sample = async (): Promise<Sample> => {
    const gc = (globalThis as { gc?: () => void }).gc;
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 100));
    }
    const m = process.memoryUsage();
    const spaces: Record<string, number> = {};
    for (const sp of v8.getHeapSpaceStatistics()) spaces[sp.space_name] = sp.physical_space_size;
    return { rss: m.rss, heap: m.heapUsed, heapTotal: m.heapTotal, spaces };
  };
  process.on('message', (msg: string) => {
    if (msg === 'sample') void sample().then((s) => process.send!(s));
    if (msg.startsWith('snapshot:')) {
      v8.writeHeapSnapshot(msg.slice('snapshot:'.length));
      process.send!('snapshot done');
    }
    if (msg === 'exit') void gw.close().then(() => process.exit(0));
  });
  // The parent died without saying 'exit': do not linger with the listening socket.
  process.on('disconnect', () => process.exit(0));
  process.send!({ port: gw.port });
}

async function client(): Promise<void> {
  const args = process.argv.slice(2);
  const smoke = args.includes('--smoke');
  const valued = new Set(['--settle', '--heap-snapshot', '--server-flag']);
  const n = Number(args.find((a, i) => /^\d+$/.test(a) && !valued.has(args[i - 1] ?? '')) ?? (smoke ? 500 : 10_000));
  const subscribe = args.includes('--subscribe');
  const serverFlags = args.flatMap((a, i) => (a === '--server-flag' && args[i + 1] !== undefined ? [args[i + 1]!] : []));
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { execArgv: ['--import', 'tsx', '--expose-gc', ...serverFlags] });
  const next = <T>(): Promise<T> => new Promise((resolve) => child.once('message', (m) => resolve(m as T)));
  const { port } = await next<{ port: number }>();
  const ask = (): Promise<Sample> => {
    const p = next<Sample>();
    child.send('sample');
    return p;
  };
  // --settle <ms>: let the gateway sit idle (pings go on) before each sample, so that V8 can give
  // back what start-up and the connection burst left (young generation, start-up garbage), as a
  // load test that waits for RSS to stop moving would.
  const settleAt = args.indexOf('--settle');
  const settleMs = settleAt >= 0 ? Number(args[settleAt + 1] ?? 30_000) : 0;
  const settle = (): Promise<unknown> => new Promise((r) => setTimeout(r, settleMs));
  await settle();
  const before = await ask();
  const token = await signHmacToken({ sub: 'bench', exp: Math.floor(Date.now() / 1000) + 3600 }, SECRET);
  const sockets: WebSocket[] = [];
  let ready = 0;
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/connection/websocket`, { perMessageDeflate: false });
    sockets.push(ws);
    const cmds = [JSON.stringify({ id: 1, connect: { token } })];
    if (subscribe) cmds.push(JSON.stringify({ id: 2, subscribe: { channel: `ch${i % 100}` } }));
    ws.on('open', () => ws.send(cmds.join('\n')));
    ws.once('message', () => ready++);
    // Answer the server's pings (an empty JSON reply) so that connections survive --settle.
    ws.on('message', (data: Buffer) => {
      if (data.length === 2 && data.toString() === '{}') ws.send('{}');
    });
    if (i % 500 === 499) await new Promise((r) => setTimeout(r, 20));
  }
  const deadline = Date.now() + 120_000;
  while (ready < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await settle();
  const after = await ask();
  const snapshotAt = args.indexOf('--heap-snapshot');
  if (snapshotAt >= 0) {
    const file = args[snapshotAt + 1] ?? 'gateway.heapsnapshot';
    const done = next<string>();
    child.send(`snapshot:${file}`);
    await done;
    console.log(`heap snapshot of the gateway written to ${file}`);
  }
  console.log(
    `${n} idle connections${subscribe ? ' with one subscription each' : ''}: ` +
      `${((after.rss - before.rss) / n).toFixed(0)} B RSS and ${((after.heap - before.heap) / n).toFixed(0)} B JS heap per connection ` +
      `(${ready}/${n} connected)`,
  );
  if (args.includes('--spaces')) {
    const names = Object.keys(after.spaces);
    console.log(`heap total ${((after.heapTotal - before.heapTotal) / n).toFixed(0)} B per connection; by space:`);
    for (const k of names) console.log(`  ${k.padEnd(24)} ${((after.spaces[k]! - (before.spaces[k] ?? 0)) / n).toFixed(0).padStart(6)} B  (${(after.spaces[k]! / 1048576).toFixed(1)} MiB)`);
  }
  for (const s of sockets) s.terminate();
  child.send('exit');
  await new Promise((r) => child.once('exit', r));
  if (ready < n) process.exitCode = 1;
}

if (process.argv.includes('--server')) await server();
else await client();
