// The Grafana dashboard queries only metrics that exist: Rotor's own (declared in the services'
// source) and prom-client's default process metrics (registered where collectDefaultMetrics runs).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { asRecord, readJson, repoPath } from './repo.ts';

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else if (/\.ts$/.test(name) && !/\.(test|bench)\.ts$/.test(name)) out.push(full);
  }
  return out;
}

/** Non-test TypeScript sources of the services and packages. */
function sources(): Array<{ file: string; text: string }> {
  const dirs = ['services/gateway/src', 'services/api/src', 'services/history/src', 'services/rotor/src', 'packages/core/src', 'packages/nats/src'];
  return dirs.flatMap((d) => walk(repoPath(d))).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
}

/** Metric names Rotor declares: quoted `rotor_…` string literals in the source. */
function rotorMetricNames(): Set<string> {
  const names = new Set<string>();
  for (const { text } of sources()) for (const m of text.matchAll(/['"`](rotor_[a-z0-9_]+)['"`]/g)) names.add(m[1] as string);
  return names;
}

/** prom-client's default metric names (process_*, nodejs_*), read from the installed package. */
function defaultMetricNames(): Set<string> {
  const require = createRequire(repoPath('services/gateway/package.json'));
  const lib = join(dirname(require.resolve('prom-client/package.json')), 'lib', 'metrics');
  const names = new Set<string>();
  for (const file of readdirSync(lib).filter((f) => f.endsWith('.js'))) {
    for (const m of readFileSync(join(lib, file), 'utf8').matchAll(/'((?:process|nodejs)_[a-z0-9_]+)'/g)) names.add(m[1] as string);
  }
  return names;
}

/** Metric names a PromQL expression reads (histogram series suffixes removed). */
function metricNamesIn(expr: string): string[] {
  const found = new Set<string>();
  for (const m of expr.matchAll(/\b((?:rotor|process|nodejs)_[a-z0-9_]+)\b/g)) {
    found.add((m[1] as string).replace(/_(bucket|sum|count)$/, ''));
  }
  return [...found];
}

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Array<{ expr?: string; refId?: string }>;
  panels?: Panel[];
}

const dashboard = asRecord(readJson('deploy/grafana/rotor-dashboard.json'), 'dashboard');
const panels = (dashboard['panels'] as Panel[]).flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));

test('dashboard: well-formed (unique ids and uid, every query non-empty, a datasource variable)', () => {
  assert.equal(dashboard['uid'], 'rotor-overview');
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  assert.ok(queries.length >= 20, `expected a full dashboard, got ${queries.length} queries`);
  for (const q of queries) assert.notEqual(q.expr.trim(), '', `${q.panel}: empty query`);
  const vars = asRecord(dashboard['templating'], 'templating')['list'] as Array<Record<string, unknown>>;
  assert.ok(vars.some((v) => v['type'] === 'datasource' && v['query'] === 'prometheus'));
});

test('dashboard: every metric it queries is declared in the code', () => {
  const known = new Set([...rotorMetricNames(), ...defaultMetricNames()]);
  assert.ok(known.has('rotor_gateway_connections') && known.has('rotor_api_requests_total'), 'the name scan found the declared metrics');
  const missing: string[] = [];
  for (const q of queries) for (const name of metricNamesIn(q.expr)) if (!known.has(name)) missing.push(`${q.panel}: ${name}`);
  assert.deepEqual(missing, []);
});

test('dashboard: process metrics are registered by some role (collectDefaultMetrics is called)', () => {
  const usesDefaults = queries.some((q) => metricNamesIn(q.expr).some((n) => !n.startsWith('rotor_')));
  assert.equal(usesDefaults, true);
  assert.ok(
    sources().some(({ text }) => /collectDefaultMetrics\(/.test(text)),
    'the dashboard shows process_*/nodejs_* metrics, so a role must register prom-client default metrics',
  );
});

test('dashboard: the metric check rejects a name the code does not declare', () => {
  const known = new Set([...rotorMetricNames(), ...defaultMetricNames()]);
  const names = metricNamesIn('sum(rate(rotor_gateway_no_such_metric_total[5m])) / sum(rotor_gateway_connections)');
  assert.deepEqual(names.filter((n) => !known.has(n)), ['rotor_gateway_no_such_metric_total']);
  assert.deepEqual(metricNamesIn('histogram_quantile(0.9, rate(rotor_api_request_duration_seconds_bucket[1m]))'), ['rotor_api_request_duration_seconds']);
});
