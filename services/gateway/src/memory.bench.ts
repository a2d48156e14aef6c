// Memory per idle connection. Run:
//   node --import tsx services/gateway/src/memory.bench.ts [connections=10000] [--subscribe] [--smoke]
// A gateway runs in a child process (so client sockets do not count); this process opens the
// connections, connects each (JWT), optionally subscribes each to one of 100 channels, and reports
// the child's RSS and JS heap growth per connection after GC.
import { fork } from 'node:child_process';
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
    return { rss: m.rss, heap: m.heapUsed };
  };
  process.on('message', (msg: string) => {
    if (msg === 'sample') void sample().then((s) => process.send!(s));
    if (msg === 'exit') void gw.close().then(() => process.exit(0));
  });
  process.send!({ port: gw.port });
}

async function client(): Promise<void> {
  const args = process.argv.slice(2);
  const smoke = args.includes('--smoke');
  const n = Number(args.find((a) => /^\d+$/.test(a)) ?? (smoke ? 500 : 10_000));
  const subscribe = args.includes('--subscribe');
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { execArgv: ['--import', 'tsx', '--expose-gc'] });
  const next = <T>(): Promise<T> => new Promise((resolve) => child.once('message', (m) => resolve(m as T)));
  const { port } = await next<{ port: number }>();
  const ask = (): Promise<Sample> => {
    const p = next<Sample>();
    child.send('sample');
    return p;
  };
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
    if (i % 500 === 499) await new Promise((r) => setTimeout(r, 20));
  }
  const deadline = Date.now() + 120_000;
  while (ready < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const after = await ask();
  console.log(
    `${n} idle connections${subscribe ? ' with one subscription each' : ''}: ` +
      `${((after.rss - before.rss) / n).toFixed(0)} B RSS and ${((after.heap - before.heap) / n).toFixed(0)} B JS heap per connection ` +
      `(${ready}/${n} connected)`,
  );
  for (const s of sockets) s.terminate();
  child.send('exit');
  await new Promise((r) => child.once('exit', r));
  if (ready < n) process.exitCode = 1;
}

if (process.argv.includes('--server')) await server();
else await client();
