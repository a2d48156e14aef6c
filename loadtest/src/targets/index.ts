// The registry of targets the harness knows: Rotor (the system under test) and the baselines
// (see target.ts for the contract).
import type { TargetFactory } from '../target.ts';
import { natsTarget } from './nats/target.ts';
import { rotorTarget } from './rotor/target.ts';
import { rotorClusterTarget } from './rotor-cluster/target.ts';
import { socketIoTarget } from './socketio/target.ts';
import { uwsTarget } from './uws/target.ts';

const registry = new Map<string, TargetFactory>();

export function registerTarget(factory: TargetFactory): void {
  if (registry.has(factory.name)) throw new Error(`target ${factory.name} is already registered`);
  registry.set(factory.name, factory);
}

export function getTarget(name: string): TargetFactory | undefined {
  return registry.get(name);
}

export function listTargets(): TargetFactory[] {
  return [...registry.values()];
}

registerTarget(rotorTarget);
registerTarget(rotorClusterTarget);
registerTarget(uwsTarget);
registerTarget(socketIoTarget);
registerTarget(natsTarget);
