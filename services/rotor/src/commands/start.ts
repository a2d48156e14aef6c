// rotor start — placeholder until the role lands.
import { notAvailable } from './not-available.ts';

export const start = notAvailable('start', 'Run every role in one process (embedded mode)');
