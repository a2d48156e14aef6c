// The Helm chart, checked without a `helm` binary: Chart.yaml and values.yaml parse; every
// template's actions are balanced, reference only values that exist and only defined templates;
// probes, ports and environment variables match what the application serves and reads; the
// rendered config loads; the README documents every value.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configEnvNames, defaultConfig, loadConfig, nonConfigEnvVars } from '../../packages/core/src/index.ts';
import { asRecord, isRecord, readJson, readText, readYaml, repoPath } from '../../deploy/test/repo.ts';
import { podEnv, renderedConfig, values, v } from './render.ts';
import { checkBalance, definedNames, missingValues, reboundValues, usedNames } from './template-check.ts';

const chartDir = 'helm/rotor';
const templateFiles = readdirSync(repoPath(`${chartDir}/templates`)).filter((f) => /\.(ya?ml|tpl|txt)$/.test(f));
const templates = new Map(templateFiles.map((f) => [f, readText(`${chartDir}/templates/${f}`)]));
const allTemplateText = [...templates.values()].join('\n');

test('Chart.yaml: apiVersion v2, app version of the CLI, NATS as an optional, not vendored dependency', () => {
  const chart = asRecord(readYaml(`${chartDir}/Chart.yaml`), 'Chart.yaml');
  assert.equal(chart['apiVersion'], 'v2');
  assert.equal(chart['name'], 'rotor');
  assert.equal(chart['type'], 'application');
  const cli = asRecord(readJson('services/rotor/package.json'), 'cli package');
  assert.equal(chart['appVersion'], cli['version']);
  const deps = chart['dependencies'] as Array<Record<string, unknown>>;
  assert.equal(deps.length, 1);
  const nats = deps[0] as Record<string, unknown>;
  assert.equal(nats['name'], 'nats');
  assert.equal(nats['condition'], 'nats.enabled');
  assert.match(String(nats['repository']), /^https:\/\//);
  // `helm dependency update` downloads it into charts/, which git ignores.
  assert.match(readText(`${chartDir}/.gitignore`), /^charts\/$/m, 'the NATS chart is fetched, not committed');
  assert.equal(v('nats.enabled'), true);
});

test('templates: every {{ }} action is closed and every block is balanced', () => {
  for (const [file, text] of templates) assert.deepEqual(checkBalance(text), [], file);
});

test('templates: every .Values path exists in values.yaml', () => {
  for (const [file, text] of templates) assert.deepEqual(missingValues(text, values), [], file);
});

test('templates: no bare .Values inside with/range (the dot is rebound there)', () => {
  for (const [file, text] of templates) assert.deepEqual(reboundValues(text), [], file);
});

test('templates: every include/template names a defined template, each defined once', () => {
  const defined = [...templates.values()].flatMap(definedNames);
  assert.equal(new Set(defined).size, defined.length, 'duplicate define');
  for (const [file, text] of templates) {
    for (const use of usedNames(text)) assert.ok(defined.includes(use.name), `${file}:${use.line}: "${use.name}" is not defined`);
  }
});

test('the template checks catch broken templates (they can fail)', () => {
  assert.deepEqual(missingValues('{{ .Values.gateway.port }} {{ .Values.gateway.nope.deeper }}', values), [
    'line 1: .Values.gateway.nope.deeper is not in values.yaml',
  ]);
  assert.deepEqual(missingValues('{{ $.Values.image.repository.sub }}', values), ['line 1: .Values.image.repository.sub is not in values.yaml']);
  // The first draft of _helpers.tpl had a stale tail after a define's end.
  assert.deepEqual(checkBalance('{{- define "x" -}}\n{{- if .a -}}\n{{- end -}}\n{{- end -}}\n{{- end -}}'), ['line 5: "end" without an open block']);
  assert.deepEqual(checkBalance('{{ if .a }}\n{{ range .b }}\n{{ end }}'), ['line 1: "if" is never closed with "end"']);
  assert.deepEqual(checkBalance('{{ else }}'), ['line 1: "else" outside if/with/range']);
  assert.deepEqual(checkBalance('a {{ .b '), ['line 1: "{{" is never closed']);
  assert.deepEqual(checkBalance('{{/* a }} in a comment */}}{{ "}}" }}'), []);
  assert.deepEqual(reboundValues('{{ with .Values.a }}{{ .Values.b }}{{ $.Values.c }}{{ end }}'), [
    'line 1: .Values inside with/range reads the rebound dot; use $.Values',
  ]);
  assert.deepEqual(
    usedNames('{{ include "rotor.nope" . }}').filter((u) => ![...templates.values()].flatMap(definedNames).includes(u.name)),
    [{ name: 'rotor.nope', line: 1 }],
  );
});

test('ports: the values equal the application defaults', () => {
  const defaults = defaultConfig('test');
  assert.equal(v('gateway.port'), defaults.httpServer.port);
  assert.equal(v('gateway.service.port'), defaults.httpServer.port);
  assert.equal(v('api.httpPort'), defaults.rotor.apiPort);
  assert.equal(v('api.grpc.port'), defaults.grpcApi.port);
  assert.equal(v('history.httpPort'), defaults.rotor.history.httpPort);
});

interface Probe {
  kind: 'httpGet' | 'tcpSocket';
  path?: string;
  port: string;
}

/** The probes of a workload template, read from its text. */
function probes(file: string): Record<string, Probe> {
  const text = templates.get(file) ?? '';
  const out: Record<string, Probe> = {};
  for (const m of text.matchAll(/(readinessProbe|livenessProbe|startupProbe):\n\s+(httpGet|tcpSocket):\n((?:\s+(?:path|port): \S+\n)+)/g)) {
    const fields = Object.fromEntries([...(m[3] as string).matchAll(/(path|port): (\S+)/g)].map((f) => [f[1], f[2]]));
    out[m[1] as string] = { kind: m[2] as Probe['kind'], port: fields['port'] as string, ...(fields['path'] ? { path: fields['path'] } : {}) };
  }
  return out;
}

function containerPort(file: string, name: string): string | undefined {
  const re = new RegExp(`- name: ${name}\\n\\s+containerPort: \\{\\{ (\\.Values\\.[\\w.]+) \\}\\}`);
  return re.exec(templates.get(file) ?? '')?.[1];
}

test('probes: the paths the app serves, on the port named http, which is the role port', () => {
  const gatewayServer = readText('services/gateway/src/server.ts');
  const apiRole = readText('services/api/src/role.ts');
  const historyProbes = readText('services/rotor/src/roles/probe-server.ts');
  assert.match(readText('services/rotor/src/commands/history.ts'), /startProbeServer\(\{[^}]*port: config\.rotor\.history\.httpPort,/);
  for (const text of [gatewayServer, apiRole, historyProbes]) {
    assert.match(text, /app\.get\('\/health', /);
    assert.match(text, /app\.get\('\/health\/live', /);
  }

  assert.deepEqual(probes('gateway-deployment.yaml'), {
    readinessProbe: { kind: 'httpGet', path: '/health', port: 'http' },
    livenessProbe: { kind: 'httpGet', path: '/health/live', port: 'http' },
    startupProbe: { kind: 'httpGet', path: '/health/live', port: 'http' },
  });
  assert.equal(containerPort('gateway-deployment.yaml', 'http'), '.Values.gateway.port');

  assert.deepEqual(probes('api-deployment.yaml'), {
    readinessProbe: { kind: 'httpGet', path: '/health', port: 'http' },
    livenessProbe: { kind: 'httpGet', path: '/health/live', port: 'http' },
    startupProbe: { kind: 'httpGet', path: '/health/live', port: 'http' },
  });
  assert.equal(containerPort('api-deployment.yaml', 'http'), '.Values.api.httpPort');
  assert.equal(containerPort('api-deployment.yaml', 'grpc'), '.Values.api.grpc.port');

  assert.deepEqual(probes('history-statefulset.yaml'), {
    readinessProbe: { kind: 'httpGet', path: '/health', port: 'http' },
    livenessProbe: { kind: 'httpGet', path: '/health/live', port: 'http' },
    startupProbe: { kind: 'httpGet', path: '/health/live', port: 'http' },
  });
  assert.equal(containerPort('history-statefulset.yaml', 'http'), '.Values.history.httpPort');
  assert.equal(v('history.probes.enabled'), true);
});

test('config: the chart sets the keys it owns in rotor.config (the test renders the same ones)', () => {
  const helpers = templates.get('_helpers.tpl') ?? '';
  const define = helpers.slice(helpers.indexOf('{{- define "rotor.config" -}}'));
  for (const key of ['"http_server"', '"grpc_api"', '"health"', '"prometheus"', '"api_port"', '"shards"', '"http_port"', '"nats"', '"url"']) {
    assert.ok(define.includes(key), `rotor.config sets ${key}`);
  }
  assert.match(define, /set \$cfg "health" \(dict "enabled" true\)/);
  assert.match(define, /set \$cfg "prometheus" \(dict "enabled" true\)/);
});

test('config: the default rendered rotor.json plus the injected environment loads without warnings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-helm-'));
  try {
    const file = join(dir, 'rotor.json');
    writeFileSync(file, JSON.stringify(renderedConfig()));
    const env = podEnv('/etc/rotor/rotor.json');
    const { config, warnings } = loadConfig({ file, env, hostname: 'release-rotor-history-0' });
    assert.deepEqual(warnings, []);
    assert.equal(config.client.token.hmacSecretKey, 'hmac-from-secret');
    assert.equal(config.httpApi.key, 'http-from-secret');
    assert.equal(config.grpcApi.key, 'grpc-from-secret');
    assert.equal(config.rotor.history.shards, v('history.shards'));
    assert.equal(config.rotor.history.httpPort, v('history.httpPort'));
    // The shard index is left to each pod (its ordinal), not fixed for all of them.
    assert.equal(config.rotor.history.shard, defaultConfig('test').rotor.history.shard);
    assert.equal(config.health.enabled, true);
    assert.equal(config.prometheus.enabled, true);

    // Pods must outlive the drain: SIGTERM → drain over rotor.drain_window → close.
    for (const role of ['gateway', 'api', 'history']) {
      const graceMs = Number(v(`${role}.terminationGracePeriodSeconds`)) * 1000;
      assert.ok(graceMs >= config.rotor.drainWindowMs + 10_000, `${role}: terminationGracePeriodSeconds leaves no room after the drain window`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('environment: every ROTOR_* variable the templates set is one the application reads', () => {
  const known = new Set([...configEnvNames(), ...nonConfigEnvVars]);
  const names = [...allTemplateText.matchAll(/- name: (ROTOR_[A-Z0-9_]+)/g)].map((m) => m[1] as string);
  assert.ok(names.length >= 5);
  for (const name of names) assert.ok(known.has(name), `${name} is not a configuration variable`);
  for (const name of ['ROTOR_CONFIG', 'ROTOR_HISTORY_SHARDS', 'ROTOR_CLIENT_TOKEN_HMAC_SECRET_KEY', 'ROTOR_HTTP_API_KEY', 'ROTOR_GRPC_API_KEY']) {
    assert.ok(names.includes(name), `${name} is injected`);
  }
});

test('environment: the variables the chart refuses in extraEnv are real names of the keys it owns', () => {
  const known = new Set([...configEnvNames(), ...nonConfigEnvVars]);
  const helpers = templates.get('_helpers.tpl') ?? '';
  const define = /\{\{- define "rotor\.reservedEnv" -\}\}\n([^{]*)\n\{\{- end -\}\}/.exec(helpers);
  assert.ok(define !== null, 'rotor.reservedEnv is defined');
  const reserved = (define[1] as string).trim().split(/\s+/);
  for (const name of reserved.filter((n) => n !== 'HOSTNAME')) assert.ok(known.has(name), `${name} is not a configuration variable`);
  // Both spellings of each rotor.* key the chart sets (ROTOR_ROTOR_… and the short alias).
  for (const key of ['history_shards', 'history_shard', 'history_http_port', 'api_port']) {
    for (const name of [`ROTOR_${key.toUpperCase()}`, `ROTOR_ROTOR_${key.toUpperCase()}`]) {
      assert.ok(known.has(name), `${name} exists`);
      assert.ok(reserved.includes(name), `${name} is refused in extraEnv`);
    }
  }
  for (const name of ['ROTOR_CONFIG', 'ROTOR_HTTP_SERVER_PORT', 'ROTOR_GRPC_API_PORT', 'ROTOR_GRPC_API_ENABLED', 'ROTOR_HEALTH_ENABLED', 'ROTOR_PROMETHEUS_ENABLED', 'HOSTNAME']) {
    assert.ok(reserved.includes(name), `${name} is refused in extraEnv`);
  }
});

test('history: a StatefulSet of shards, started in parallel, without volumes or autoscaling', () => {
  const sts = templates.get('history-statefulset.yaml') ?? '';
  assert.match(sts, /kind: StatefulSet/);
  assert.match(sts, /replicas: \{\{ \.Values\.history\.shards \}\}/);
  assert.match(sts, /podManagementPolicy: Parallel/);
  assert.match(sts, /args: \["history"\]/);
  // The shard index comes from the pod name (the role reads the ordinal of HOSTNAME).
  assert.match(sts, /- name: HOSTNAME\n\s+valueFrom:\n\s+fieldRef:\n\s+fieldPath: metadata\.name\n/);
  assert.match(readText('services/rotor/src/commands/history.ts'), /shardIndex\(stringOption\(args, 'shard'\), config\.rotor\.history\.shard, ctx\.env\['HOSTNAME'\]\)/);
  assert.doesNotMatch(sts, /volumeClaimTemplates/);
  assert.match(templates.get('_helpers.tpl') ?? '', /name: ROTOR_HISTORY_SHARDS\n\s+value: \{\{ \.Values\.history\.shards \| quote \}\}/);
  for (const [file, text] of templates) {
    if (text.includes('kind: HorizontalPodAutoscaler')) assert.doesNotMatch(text, /kind: StatefulSet/, `${file} must not scale the shards`);
  }
});

test('security: non-root user of the image, read-only root with a writable /tmp', () => {
  const user = /^USER (\d+):(\d+)$/m.exec(readText('deploy/Dockerfile'));
  assert.ok(user !== null);
  assert.equal(v('podSecurityContext.runAsNonRoot'), true);
  assert.equal(v('podSecurityContext.runAsUser'), Number(user[1]));
  assert.equal(v('podSecurityContext.runAsGroup'), Number(user[2]));
  assert.equal(v('securityContext.readOnlyRootFilesystem'), true);
  assert.equal(v('securityContext.allowPrivilegeEscalation'), false);
  assert.match(templates.get('_helpers.tpl') ?? '', /- name: tmp\n\s+mountPath: \/tmp/);
  for (const file of ['gateway-deployment.yaml', 'api-deployment.yaml', 'history-statefulset.yaml']) {
    const text = templates.get(file) ?? '';
    assert.match(text, /include "rotor\.volumeMounts"/, file);
    assert.match(text, /toYaml \.Values\.securityContext/, file);
  }
});

/** Leaf paths of values.yaml; `config` and `nats.config` are documented as whole trees. */
function leafPaths(node: unknown, prefix: string): string[] {
  if (prefix === 'config' || prefix === 'nats.config') return [prefix];
  if (!isRecord(node) || Object.keys(node).length === 0) return [prefix];
  return Object.entries(node).flatMap(([k, child]) => leafPaths(child, prefix === '' ? k : `${prefix}.${k}`));
}

test('README: the values table lists every value', () => {
  const readme = readText(`${chartDir}/README.md`);
  const missing = leafPaths(values, '').filter((p) => !readme.includes(`| \`${p}\` |`));
  assert.deepEqual(missing, []);
});
