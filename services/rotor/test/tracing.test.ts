// `rotor start` as a user runs it (a child process) with opentelemetry.enabled + opentelemetry.api:
// the spans of its API calls reach an OTLP collector named by OTEL_EXPORTER_OTLP_ENDPOINT, and the
// ones still queued when SIGTERM arrives are flushed before the process exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeCollector } from '@rotor/api/testing';
import { withDeadline } from '@rotor/testkit';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');
const KEY = 'tracing-test-api-key-0123456789';

test('rotor start exports API spans over OTLP/HTTP and flushes them on SIGTERM', async (t) => {
  const collector = await startFakeCollector();
  t.after(() => collector.close());
  const dir = mkdtempSync(join(tmpdir(), 'rotor-tracing-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      http_server: { address: '127.0.0.1' },
      http_api: { key: KEY },
      client: { token: { hmac_secret_key: 'tracing-test-hmac-secret-0123456789abcdef' } },
      opentelemetry: { enabled: true, api: true },
      log: { level: 'info' },
    }),
  );
  const child = spawn(process.execPath, ['--import', tsx, main, 'start', '--config', file, '--port', '0'], {
    cwd: dir,
    // A schedule delay far beyond the test: only the flush at SIGTERM can deliver the spans.
    env: { PATH: process.env['PATH'] ?? '', OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: '600000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stdout.resume();
  const port = await withDeadline(
    new Promise<number>((resolve, reject) => {
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => {
        stderr += d;
        const m = /"msg":"rotor started".*"httpPort":(\d+)/.exec(stderr);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`rotor start exited (${code}): ${stderr}`)));
    }),
    30_000,
    'rotor start listening',
  );

  const traceId = '5bf92f3577b34da6a3ce929d0e0e4736';
  const res = await fetch(`http://127.0.0.1:${port}/api/publish`, {
    method: 'POST',
    headers: { 'X-API-Key': KEY, traceparent: `00-${traceId}-10f067aa0ba902b7-01` },
    body: '{"channel":"news","data":{"n":1}}',
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200, await res.text());
  assert.equal(collector.spans.length, 0, 'nothing exported before the schedule delay or a flush');

  child.kill('SIGTERM');
  assert.equal(await withDeadline(exited, 30_000, 'rotor start to exit'), 0, stderr);
  assert.equal(collector.spans.length, 1, stderr);
  const span = collector.spans[0]!;
  assert.equal(span.name, 'rotor.api/publish');
  assert.equal(span.traceId, traceId);
  assert.equal(span.parentSpanId, '10f067aa0ba902b7');
  assert.equal(span.attributes['rotor.channel'], 'news');
  assert.equal(span.resource['service.name'], 'rotor');
  assert.equal(span.resource['rotor.role'], 'embedded');
  assert.equal(typeof span.resource['rotor.node'], 'string');
  assert.match(stderr, /"msg":"tracing enabled".*"endpoint":"http:\/\/127\.0\.0\.1:\d+\/v1\/traces"/);
});
