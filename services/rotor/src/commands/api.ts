// rotor api — placeholder until the role lands.
import { notAvailable } from './not-available.ts';

export const api = notAvailable('api', 'Run the server API role (HTTP and gRPC)');
