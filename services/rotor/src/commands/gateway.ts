// rotor gateway — placeholder until the role lands.
import { notAvailable } from './not-available.ts';

export const gateway = notAvailable('gateway', 'Run the client-facing WebSocket gateway role');
