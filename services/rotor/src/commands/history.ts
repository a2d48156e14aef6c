// rotor history — placeholder until the role lands.
import { notAvailable } from './not-available.ts';

export const history = notAvailable('history', 'Run a history shard role');
