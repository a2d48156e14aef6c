// Messages between the idle scenario and its connection-holding child processes.
import type { Endpoint } from '../../target.ts';

export interface IdleChildConfig {
  driverModule: string;
  endpoint: Endpoint;
  format: string;
  /** Global index of this child's first connection (for channel and source address choice). */
  from: number;
  count: number;
  channels: number;
  concurrency: number;
  /** Use 127.0.x.y source addresses (only for targets listening on 127.0.0.1). */
  spreadSources: boolean;
}

export type IdleParentMessage = { type: 'open'; config: IdleChildConfig } | { type: 'status' } | { type: 'close' };

export type IdleChildMessage =
  | { type: 'progress'; connected: number; failed: number }
  | { type: 'ready'; connected: number; failed: number; firstError: string | null; closedSince: number }
  | { type: 'status'; closed: number }
  | { type: 'closed' };
