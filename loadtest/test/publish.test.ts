// The publish scenario through the plug-in point a Rotor target will implement (RunningTarget.api):
// a stand-in HTTP API in this process answers POST /api/publish, and the report must count every
// acknowledged request and refuse transports the target lacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCli, registerTarget, runScenario, type ApiClient, type PublishResult, type SkippedRun, type TargetFactory } from '../src/index.ts';

test('publish: rate and latency of an API target, unknown transports skipped', async () => {
  const seen: { channel: string; size: number }[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString()) as { channel: string; data: string };
      seen.push({ channel: body.channel, size: body.data.length });
      res.writeHead(req.url === '/api/publish' ? 200 : 404, { 'content-type': 'application/json' }).end('{"result":{}}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const httpApi: TargetFactory = {
    name: 'http-api-standin',
    description: 'an in-process HTTP publish endpoint',
    subject: true,
    formats: ['json'],
    scenarios: ['publish'],
    unavailable: () => null,
    start: () =>
      Promise.resolve({
        endpoint: { host: '127.0.0.1', port, extra: {} },
        processes: [{ label: 'self', pid: process.pid }],
        driverModule: new URL('../src/targets/uws/driver.ts', import.meta.url).href,
        format: 'json',
        api: {
          transports: ['http'],
          channelName: (i: number) => `news:${i}`,
          open: (): Promise<ApiClient> =>
            Promise.resolve({
              publish: (channel: string, data: Buffer) =>
                new Promise<void>((resolve, reject) => {
                  const body = JSON.stringify({ channel, data: JSON.parse(data.toString('latin1')) as string });
                  const req = request({ host: '127.0.0.1', port, path: '/api/publish', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
                    res.resume();
                    res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
                  });
                  req.on('error', reject);
                  req.end(body);
                }),
              close: () => Promise.resolve(),
            }),
        },
        stop: () => Promise.resolve(),
      }),
  };
  registerTarget(httpApi);
  try {
    const p = parseCli(['publish', '--targets', 'http-api-standin', '--messages', '150', '--concurrency', '4', '--channels', '3', '--transports', 'http,grpc', '--warmup', '0', '--size', '64'], 1);
    if (p.help) throw new Error('unreachable');
    const run = await runScenario('publish', { ...p.config, outDir: null }, () => undefined);
    const [http, grpc] = run.report.results as [PublishResult, SkippedRun];
    assert.equal(http.transport, 'http');
    assert.equal(http.published, 150);
    assert.equal(http.failed, 0);
    assert.equal(http.latencyUs.count, 150);
    assert.ok(http.publishesPerSecond > 0);
    assert.equal(grpc.skipped, 'no grpc API');
    assert.equal(seen.length, 150);
    assert.deepEqual(new Set(seen.map((s) => s.channel)), new Set(['news:0', 'news:1', 'news:2']));
    assert.ok(seen.every((s) => s.size === 62), 'the payload literal arrives as a 62-character JSON string');
    assert.match(run.text, /http-api-standin\s+http\s+/);
  } finally {
    agent.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
