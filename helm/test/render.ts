// What the chart renders, reproduced in TypeScript for tests that run without `helm`: the values
// and the rotor.json of the ConfigMap (values.config plus the keys _helpers.tpl "rotor.config"
// sets; chart.test.ts checks that the define sets exactly those), and the environment every pod gets.
import { asRecord, isRecord, readYaml } from '../../deploy/test/repo.ts';

export const values = asRecord(readYaml('helm/rotor/values.yaml'), 'values.yaml');

/** A value by dot path. */
export function v(path: string): unknown {
  let node: unknown = values;
  for (const key of path.split('.')) node = asRecord(node, path)[key];
  return node;
}

/** The default rotor.json, with the bundled NATS of a release named `release`. */
export function renderedConfig(natsUrl = 'nats://release-nats:4222'): Record<string, unknown> {
  const cfg = structuredClone(asRecord(v('config'), 'config'));
  const obj = (key: string, parent: Record<string, unknown> = cfg): Record<string, unknown> => {
    const existing = parent[key];
    const next = isRecord(existing) ? existing : {};
    parent[key] = next;
    return next;
  };
  obj('http_server')['port'] = v('gateway.port');
  Object.assign(obj('grpc_api'), { enabled: v('api.grpc.enabled'), port: v('api.grpc.port') });
  cfg['health'] = { enabled: true };
  cfg['prometheus'] = { enabled: true };
  const rotor = obj('rotor');
  rotor['api_port'] = v('api.httpPort');
  Object.assign(obj('history', rotor), { shards: v('history.shards'), http_port: v('history.httpPort') });
  obj('nats', rotor)['url'] = natsUrl;
  return cfg;
}

/** The ROTOR_* environment of every pod ("rotor.env"), with stand-in secret values. */
export function podEnv(configPath: string): Record<string, string> {
  return {
    ROTOR_CONFIG: configPath,
    ROTOR_HISTORY_SHARDS: String(v('history.shards')),
    ROTOR_CLIENT_TOKEN_HMAC_SECRET_KEY: 'hmac-from-secret',
    ROTOR_HTTP_API_KEY: 'http-from-secret',
    ROTOR_GRPC_API_KEY: 'grpc-from-secret',
  };
}
