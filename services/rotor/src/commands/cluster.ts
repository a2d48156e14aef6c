// rotor cluster — placeholder until the role lands.
import { notAvailable } from './not-available.ts';

export const cluster = notAvailable('cluster', 'Start a local cluster: NATS, history shards, gateways, api');
