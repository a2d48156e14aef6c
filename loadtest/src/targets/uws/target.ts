import { forkServer } from '../../lib/child-server.ts';
import type { RunningTarget, TargetFactory, TargetStartOptions } from '../../target.ts';

// Closed-loop publishing bounds what a subscriber has queued to window × payload per channel, so a
// generous limit never drops in a fair run; a drop would still be caught as a loss.
const MAX_BACKPRESSURE = 4 * 1024 * 1024;

export const uwsTarget: TargetFactory = {
  name: 'uws',
  description: 'bare uWebSockets.js topic publish (one frame per message)',
  subject: false,
  formats: ['text'],
  scenarios: ['fanout', 'idle', 'connect'],
  unavailable: () => null,
  async start(_opts: TargetStartOptions): Promise<RunningTarget> {
    const { handle, port } = await forkServer(new URL('./server.ts', import.meta.url).href, [String(MAX_BACKPRESSURE)]);
    return {
      endpoint: { host: '127.0.0.1', port, extra: {} },
      processes: [{ label: 'uws', pid: handle.pid }],
      driverModule: new URL('./driver.ts', import.meta.url).href,
      format: 'text',
      stop: () => handle.stop(),
    };
  },
};
