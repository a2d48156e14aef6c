// Idle-connection holder: a child process of the harness that opens its share of subscribed
// connections and keeps them until told to close. Several of these spread connections over
// processes, since one process may hold at most 20 000 open files.
import type { CreateDriver, MessageSink, SubscriberConn } from '../../target.ts';
import type { IdleChildConfig, IdleChildMessage, IdleParentMessage } from './protocol.ts';

function send(m: IdleChildMessage): void {
  process.send?.(m);
}

let conns: SubscriberConn[] = [];
let closed = 0;

const sink: MessageSink = {
  onChunk: () => undefined,
  onFrame: () => undefined,
  onPayload: () => undefined,
  onClose: () => {
    closed++;
  },
};

async function open(cfg: IdleChildConfig): Promise<void> {
  const mod = (await import(cfg.driverModule)) as { createDriver: CreateDriver };
  const driver = mod.createDriver(cfg.endpoint, { format: cfg.format });
  let next = 0;
  let connected = 0;
  let failed = 0;
  let firstError: string | null = null;
  const progress = setInterval(() => send({ type: 'progress', connected, failed }), 500);
  const lane = async () => {
    while (next < cfg.count) {
      const i = cfg.from + next++;
      try {
        // Spread source addresses over 127.0.0.0/8 so the ephemeral port range never runs out.
        const localAddress = cfg.spreadSources ? `127.0.${(i >> 8) & 255}.${(i & 255) | 1}` : undefined;
        conns.push(await driver.subscribe([driver.channelName(i % cfg.channels)], sink, { localAddress }));
        connected++;
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.concurrency, cfg.count) }, lane));
  clearInterval(progress);
  send({ type: 'ready', connected, failed, firstError, closedSince: closed });
}

process.on('message', (m: IdleParentMessage) => {
  if (m.type === 'open') {
    open(m.config).catch((err: unknown) => {
      send({ type: 'ready', connected: 0, failed: m.config.count, firstError: (err as Error).message, closedSince: closed });
    });
  } else if (m.type === 'status') {
    send({ type: 'status', closed });
  } else if (m.type === 'close') {
    for (const c of conns) c.close();
    conns = [];
    send({ type: 'closed' });
    process.disconnect();
  }
});
process.once('disconnect', () => {
  for (const c of conns) c.abort();
  process.exit(0);
});
