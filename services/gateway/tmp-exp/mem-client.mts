import { fork } from 'node:child_process';
import WebSocket from 'ws';
const N = Number(process.argv[2] ?? 5000);
const SUB = process.argv[3] === 'sub';
const NOCONNECT = process.argv[3] === 'open';
const server = fork(new URL('./mem-server.mts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx', '--expose-gc'] });
const ask = (cmd: string) => new Promise<any>((r) => { server.once('message', r); server.send({ cmd }); });
const { url, tok } = await new Promise<any>((r) => server.once('message', r));
const base = await ask('rss');
const socks: WebSocket[] = [];
let ready = 0;
for (let i = 0; i < N; i++) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  socks.push(ws);
  ws.on('open', () => { if (NOCONNECT) { ready++; return; } ws.send(JSON.stringify({ id: 1, connect: { token: tok } }) + (SUB ? '\n' + JSON.stringify({ id: 2, subscribe: { channel: 'ch' + (i % 100) } }) : '')); });
  ws.on('message', () => { ready++; });
  if (i % 500 === 499) await new Promise((r) => setTimeout(r, 50));
}
while (ready < N) await new Promise((r) => setTimeout(r, 50));
const after = await ask('rss');
console.log(JSON.stringify({ N, SUB, perConnRss: Math.round((after.rss - base.rss) / N), perConnHeap: Math.round((after.heap - base.heap) / N), perConnHeapTotal: Math.round((after.heapTotal - base.heapTotal) / N), perConnExt: Math.round((after.ext - base.ext) / N), conns: after.conns, subs: after.subs }));
server.send({ cmd: 'exit' });
for (const s of socks) s.terminate();
process.exit(0);
