import { startTestGateway, token } from '../test/harness.ts';
const g = await startTestGateway({ client: { stale_close_delay: '600s', }, channel: { without_namespace: { allow_subscribe_for_client: true } } });
const tok = await token(process.env.NOEXP ? { sub: 'u', exp: undefined } : { sub: 'u' });
process.send!({ url: g.url, tok });
process.on('message', async (m: { cmd: string }) => {
  if (m.cmd === 'rss') {
    for (let i = 0; i < 3; i++) { (globalThis as any).gc?.(); await new Promise((r) => setTimeout(r, 100)); }
    const mu = process.memoryUsage();
    process.send!({ rss: mu.rss, heapTotal: mu.heapTotal, heap: mu.heapUsed, ext: mu.external, ab: mu.arrayBuffers, conns: g.gateway.metrics.connections[0], subs: g.gateway.metrics.subscriptions });
  }
  if (m.cmd === 'exit') { await g.close(); process.exit(0); }
});
