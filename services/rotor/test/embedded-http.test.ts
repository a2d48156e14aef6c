// The embedded server's HTTP surface in-process: the demo page and its assets (content types,
// caching, gzip, HEAD, 304, no traversal, no secret), the catch-all 404, health and metrics beside
// the API. The child-process flows live in tests/e2e.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadConfig, silentLogger } from '@rotor/core';
import { withDeadline } from '@rotor/testkit';
import { centrifugePackageDir } from '../src/embedded/demo.ts';
import { devConfigEnv, generateDevSecrets } from '../src/embedded/dev-config.ts';
import { startEmbedded } from '../src/index.ts';
import type { EmbeddedServer } from '../src/index.ts';

async function start(t: { after(fn: () => Promise<void>): void }): Promise<{ server: EmbeddedServer; base: string; secrets: ReturnType<typeof generateDevSecrets> }> {
  const secrets = generateDevSecrets();
  const { config } = loadConfig({ env: { ...devConfigEnv(secrets), ROTOR_HTTP_SERVER_PORT: '0' } });
  const server = await startEmbedded({ config, log: silentLogger() });
  t.after(() => server.close());
  return { server, base: `http://127.0.0.1:${server.httpPort}`, secrets };
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
  return fetch(url, { method, headers, signal: AbortSignal.timeout(10_000) });
}

/** One raw HTTP/1.1 exchange (the path is sent exactly as given; fetch would normalise it). */
function raw(port: number, request: string): Promise<string> {
  return withDeadline(
    new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(request));
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => {
        text += d;
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    }),
    10_000,
    'a raw HTTP exchange',
  );
}

test('the demo page: HTML with a strict CSP, revalidated with its ETag, links to versioned same-origin assets, no secret', async (t) => {
  const { base, secrets } = await start(t);
  const res = await get(`${base}/`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self';.*connect-src 'self'/);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  const html = await res.text();
  assert.match(html, /<html lang="en" data-anonymous="true" data-channel="chat:lobby">/);
  assert.ok(!html.includes(secrets.apiKey) && !html.includes(secrets.hmacSecret), 'no secret in the page');
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'nothing loaded from another origin');
  assert.doesNotMatch(html, /\{\{/, 'every placeholder filled');

  const etag = res.headers.get('etag') ?? '';
  assert.match(etag, /^"[\w-]+"$/);
  const again = await get(`${base}/`, { 'If-None-Match': etag });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), '');

  const links = [...html.matchAll(/(?:src|href)="(\/demo\/[^"?]+)\?v=([\w-]+)"/g)].map((m): [string, string] => [m[1] as string, m[2] as string]);
  assert.deepEqual(links.map(([p]) => p).sort(), ['/demo/centrifuge.js', '/demo/demo.css', '/demo/demo.js']);
  for (const [path, version] of links) {
    const asset = await get(`${base}${path}?v=${version}`);
    assert.equal(asset.status, 200, path);
    assert.equal(asset.headers.get('content-type'), path.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8', path);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable', path);
    await asset.arrayBuffer();
    // Another version (a stale link) is not cached for a year.
    const stale = await get(`${base}${path}?v=old`);
    assert.equal(stale.headers.get('cache-control'), 'no-cache', path);
    await stale.arrayBuffer();
  }
});

test('centrifuge.js is the installed package\'s browser bundle, gzipped on request; HEAD reports the length without a body', async (t) => {
  const { base, server } = await start(t);
  const original = readFileSync(join(centrifugePackageDir(), 'dist/centrifuge.js'));

  const plain = await get(`${base}/demo/centrifuge.js`, { 'Accept-Encoding': 'identity' });
  assert.equal(plain.headers.get('content-encoding'), null);
  assert.ok(Buffer.from(await plain.arrayBuffer()).equals(original));

  // Raw, so the compressed bytes are seen as sent.
  const zipped = await raw(server.httpPort, 'GET /demo/centrifuge.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, br\r\nConnection: close\r\n\r\n');
  const split = zipped.indexOf('\r\n\r\n');
  const head = zipped.slice(0, split);
  assert.match(head, /^Content-Encoding: gzip$/im);
  assert.match(head, /^Vary: Accept-Encoding$/im);
  const body = Buffer.from(zipped.slice(split + 4), 'latin1');
  assert.ok(body.length < original.length / 2, `gzip ${body.length} of ${original.length}`);
  assert.ok(gunzipSync(body).equals(original));

  const refused = await get(`${base}/demo/centrifuge.js`, { 'Accept-Encoding': 'gzip;q=0' });
  assert.equal(refused.headers.get('content-encoding'), null);
  await refused.arrayBuffer();

  // HEAD then GET on one keep-alive connection: the HEAD reply has no body to desynchronise the next.
  const pair = await raw(
    server.httpPort,
    'HEAD /demo/demo.css HTTP/1.1\r\nHost: x\r\n\r\nGET /demo/demo.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  );
  const replies = pair.split(/(?=HTTP\/1\.1 )/);
  assert.equal(replies.length, 2, pair);
  const css = readFileSync(new URL('../public/demo.css', import.meta.url));
  assert.match(replies[0] as string, new RegExp(`^HTTP/1.1 200 OK\\r\\n[\\s\\S]*Content-Length: ${css.length}\\r\\n[\\s\\S]*\\r\\n\\r\\n$`));
  assert.ok((replies[1] as string).endsWith(css.toString('latin1')));
});

test('no path reaches the file system; other methods 405; unknown paths 404; health, metrics and the API share the port', async (t) => {
  const { base, server, secrets } = await start(t);
  for (const path of ['/demo/../package.json', '/demo/%2e%2e/%2e%2e/package.json', '/..%2fpackage.json', '//etc/passwd', '/demo/demo.js/..', '/demo/', '/public/demo.js', '/demo/demo.js%00']) {
    const reply = await raw(server.httpPort, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(reply, /^HTTP\/1\.1 404 /, path);
    assert.doesNotMatch(reply, /"name"|root:/, path);
  }
  const post = await fetch(`${base}/`, { method: 'POST', body: 'x', signal: AbortSignal.timeout(10_000) });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  await post.arrayBuffer();

  const missing = await get(`${base}/favicon.ico`);
  assert.equal(missing.status, 404);
  assert.equal(await missing.text(), 'Not Found\n');

  const health = await get(`${base}/health`);
  assert.deepEqual([health.status, await health.json()], [200, { status: 'ok' }]);

  const info = await fetch(`${base}/api/info`, { method: 'POST', headers: { 'X-API-Key': secrets.apiKey }, body: '{}', signal: AbortSignal.timeout(10_000) });
  assert.equal(info.status, 200);
  const nodes = ((await info.json()) as { result: { nodes: unknown[] } }).result.nodes;
  assert.equal(nodes.length, 1, 'one node: this process');

  // One registry: the gateway's, the API's and the process metrics on one page.
  const metrics = await (await get(`${base}/metrics`)).text();
  for (const name of ['rotor_gateway_connections', 'rotor_api_requests_total', 'process_cpu_user_seconds_total']) assert.match(metrics, new RegExp(`^# HELP ${name} `, 'm'), name);
  assert.match(metrics, /^rotor_api_requests_total\{protocol="http",method="info",result="ok"\} 1$/m);
});
