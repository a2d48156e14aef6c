import { forkServer } from '../../lib/child-server.ts';
import type { RunningTarget, TargetFactory, TargetStartOptions } from '../../target.ts';

export const socketIoTarget: TargetFactory = {
  name: 'socketio',
  description: 'Socket.IO 4.8.1 room broadcast, websocket transport only',
  subject: false,
  formats: ['socket.io'],
  scenarios: ['fanout', 'idle', 'connect'],
  unavailable: () => null,
  async start(_opts: TargetStartOptions): Promise<RunningTarget> {
    const { handle, port } = await forkServer(new URL('./server.ts', import.meta.url).href, []);
    return {
      endpoint: { host: '127.0.0.1', port, extra: {} },
      processes: [{ label: 'socketio', pid: handle.pid }],
      driverModule: new URL('./driver.ts', import.meta.url).href,
      format: 'socket.io',
      stop: () => handle.stop(),
    };
  },
};
