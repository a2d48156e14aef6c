// nats-server with its own WebSocket listener. The server picks free ports (-1) and writes them to
// a ports file, which we poll; nothing is bound to a fixed port.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnProcess } from '../../lib/child-server.ts';
import type { RunningTarget, TargetFactory, TargetStartOptions } from '../../target.ts';

const DEFAULT_LOCATIONS = ['/usr/bin/nats-server', '/usr/local/bin/nats-server', '/usr/sbin/nats-server'];
let configured: string | null = null;

/** Uses this nats-server binary instead of the usual locations (the CLI's --nats-server). */
export function configureNatsServer(path: string): void {
  configured = path;
}

export function natsServerBinary(): string | null {
  if (configured !== null) return existsSync(configured) ? configured : null;
  return DEFAULT_LOCATIONS.find((p) => existsSync(p)) ?? null;
}

async function waitForPortsFile(dir: string, pid: number, timeoutMs: number): Promise<{ nats: string; websocket: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const file = readdirSync(dir).find((f) => f.endsWith(`_${pid}.ports`));
    if (file) {
      const text = readFileSync(join(dir, file), 'utf8');
      if (text.trim().endsWith('}')) {
        const ports = JSON.parse(text) as { nats?: string[]; websocket?: string[] };
        const nats = ports.nats?.[0];
        const websocket = ports.websocket?.[0];
        if (nats && websocket) return { nats, websocket };
      }
    }
    if (Date.now() > deadline) throw new Error(`nats-server did not write its ports file within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const natsTarget: TargetFactory = {
  name: 'nats',
  description: "nats-server's WebSocket listener, NATS text protocol (packs many messages per frame)",
  subject: false,
  formats: ['nats-text'],
  scenarios: ['fanout', 'idle', 'connect'],
  unavailable: () => (natsServerBinary() ? null : 'nats-server not found (install it, or pass --nats-server PATH)'),
  async start(opts: TargetStartOptions): Promise<RunningTarget> {
    const bin = natsServerBinary();
    if (!bin) throw new Error('nats-server not found');
    const conf = join(opts.tmpDir, 'nats.conf');
    writeFileSync(
      conf,
      [
        'listen: "127.0.0.1:-1"',
        `ports_file_dir: ${JSON.stringify(opts.tmpDir)}`,
        'max_payload: 8MB',
        'max_connections: 100000',
        'websocket {',
        '  listen: "127.0.0.1:-1"',
        '  no_tls: true',
        '  compression: false',
        '}',
        '',
      ].join('\n'),
    );
    const handle = spawnProcess(bin, ['-c', conf]);
    try {
      const ports = await waitForPortsFile(opts.tmpDir, handle.pid, 10_000);
      const ws = new URL(ports.websocket);
      const tcp = new URL(ports.nats);
      return {
        endpoint: { host: ws.hostname, port: Number(ws.port), extra: { tcpPort: Number(tcp.port) } },
        processes: [{ label: 'nats-server', pid: handle.pid }],
        driverModule: new URL('./driver.ts', import.meta.url).href,
        format: 'nats-text',
        stop: () => handle.stop(),
      };
    } catch (err) {
      await handle.stop();
      throw err;
    }
  },
};
