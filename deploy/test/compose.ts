// The Rotor services of deploy/compose.yaml as the containers would see them: role, arguments,
// environment (variables without a value are unset) and the configuration each one loads.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig, type RotorConfig } from '../../packages/core/src/index.ts';
import { asRecord, readYaml, repoPath } from './repo.ts';

export interface RotorService {
  name: string;
  role: string;
  args: string[];
  /** The container's environment, ROTOR_CONFIG translated to the file's path in this checkout. */
  env: Record<string, string>;
  config: Readonly<RotorConfig>;
  service: Record<string, unknown>;
}

/** The compose services that run the Rotor image, with the configuration each would load. */
export function rotorServices(): RotorService[] {
  const compose = asRecord(readYaml('deploy/compose.yaml'), 'compose.yaml');
  const services = asRecord(compose['services'], 'services');
  const out: RotorService[] = [];
  for (const [name, raw] of Object.entries(services)) {
    const service = asRecord(raw, name);
    if (!String(service['image']).includes('ROTOR_IMAGE')) continue;
    const command = service['command'] as string[];
    const env: Record<string, string> = {};
    // A variable without a value is taken from the operator's shell, or left unset: unset here.
    for (const [k, v] of Object.entries(asRecord(service['environment'], `${name}.environment`))) {
      if (v !== null) env[k] = String(v);
    }
    const mounts = new Map<string, string>();
    for (const volume of service['volumes'] as string[]) {
      const [host, container] = volume.split(':') as [string, string];
      mounts.set(container, repoPath(join('deploy', host)));
    }
    const configPath = env['ROTOR_CONFIG'];
    assert.ok(configPath !== undefined && mounts.has(configPath), `${name}: ROTOR_CONFIG must point at a mounted file`);
    const file = mounts.get(configPath) as string;
    const { config, warnings } = loadConfig({ file, env, hostname: name });
    assert.deepEqual(warnings, [], `${name}: the config it loads must not warn`);
    out.push({ name, role: command[0] as string, args: command.slice(1), env: { ...env, ROTOR_CONFIG: file }, config, service });
  }
  return out;
}

