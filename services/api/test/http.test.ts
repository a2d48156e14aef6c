// The HTTP binding over real sockets: every method's JSON shape, auth, 404/405/400/413, the
// transport error mode, the legacy endpoint, and robustness against aborted requests.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Errors, RotorError } from '@rotor/core';
import type { Publisher, PublishRequest } from '@rotor/core';
import { deferred, waitFor } from '@rotor/testkit';
import { KEY, call, post, startTestApi, text } from './harness.ts';
import type { TestApi } from './harness.ts';

describe('HTTP API methods', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi({ grpc: false, deps: { rpc: new Map([['echo', (p: Uint8Array) => p]]) } });
  });
  after(() => t.close());

  test('publish: result with offset/epoch; raw JSON data passes byte for byte', async () => {
    await t.watch('raw');
    const data = '{"big":12345678901234567890,"s":"\\u00e9","n":[1.50,-0]}';
    const r = await post(`${t.httpUrl}/api/publish`, `{"channel":"raw","data":${data}}`);
    assert.equal(r.status, 200);
    assert.match(r.contentType ?? '', /application\/json/);
    const body = r.json() as { result: { offset: number; epoch: string } };
    assert.equal(body.result.offset, 1);
    assert.equal(typeof body.result.epoch, 'string');
    const [d] = await t.delivered.waitFor(1);
    assert.equal(text(d!.pub.data), data);
    // Without history the result is an empty object.
    assert.equal((await post(`${t.httpUrl}/api/publish`, '{"channel":"nohist:a","data":"x"}')).body, '{"result":{}}');
  });

  test('publish: b64data carries binary; errors in the body with HTTP 200', async () => {
    await t.watch('bin:b64');
    const r = await call(t, 'publish', { channel: 'bin:b64', b64data: Buffer.from([0, 1, 254, 255]).toString('base64') });
    assert.equal((r['result'] as { offset: number }).offset, 1);
    await waitFor(() => t.delivered.items.some((d) => d.channel === 'bin:b64'), { what: 'the binary publication' });
    assert.deepEqual([...t.delivered.items.find((d) => d.channel === 'bin:b64')!.pub.data], [0, 1, 254, 255]);
    assert.deepEqual(await call(t, 'publish', { channel: 'nope:x', data: {} }), { error: { code: 102, message: 'unknown channel' } });
    const e = (await call(t, 'publish', { channel: '', data: {} }))['error'] as { code: number };
    assert.equal(e.code, 107);
  });

  test('idempotency_key over HTTP returns the first result', async () => {
    const a = await call(t, 'publish', { channel: 'idem', data: { n: 1 }, idempotency_key: 'once' });
    const b = await call(t, 'publish', { channel: 'idem', data: { n: 2 }, idempotency_key: 'once' });
    assert.deepEqual(b, a);
    const h = (await call(t, 'history', { channel: 'idem', limit: -1 }))['result'] as { publications: unknown[] };
    assert.equal(h.publications.length, 1);
  });

  test('broadcast: one response per channel', async () => {
    const r = await call(t, 'broadcast', { channels: ['bc1', 'nope:x'], data: { b: 1 } });
    assert.deepEqual(r, {
      result: { responses: [{ result: (r as { result: { responses: Array<{ result: unknown }> } }).result.responses[0]!.result }, { error: { code: 102, message: 'unknown channel' } }] },
    });
    assert.equal((r as { result: { responses: Array<{ result: { offset: number } }> } }).result.responses[0]!.result.offset, 1);
  });

  test('subscribe, unsubscribe, disconnect, refresh: empty results and control commands', async () => {
    const before = t.control.commands.length;
    assert.deepEqual(await call(t, 'subscribe', { channel: 'news', user: 'u1', info: { a: 1 }, override: { presence: { value: true } } }), { result: {} });
    assert.deepEqual(await call(t, 'unsubscribe', { channel: 'news', user: 'u1' }), { result: {} });
    assert.deepEqual(await call(t, 'disconnect', { user: 'u1', disconnect: { code: 4500, reason: 'go' } }), { result: {} });
    assert.deepEqual(await call(t, 'refresh', { user: 'u1', expire_at: 1900000000 }), { result: {} });
    const cmds = (await t.control.commands.waitFor(before + 4)).slice(before);
    assert.deepEqual(cmds.map((c) => c.kind), ['subscribe', 'unsubscribe', 'disconnect', 'refresh']);
    const sub = cmds[0]!;
    assert.ok(sub.kind === 'subscribe' && text(sub.info) === '{"a":1}' && sub.override?.presence === true);
    const dis = cmds[2]!;
    assert.ok(dis.kind === 'disconnect' && dis.disconnect.code === 4500 && dis.disconnect.reason === 'go');
    const ref = cmds[3]!;
    assert.ok(ref.kind === 'refresh' && ref.expireAt === 1900000000);
  });

  test('presence and presence_stats: raw JSON infos, zero counts always present', async () => {
    await t.addPresence('pres', { user: 'u1', client: 'c1', connInfo: new TextEncoder().encode('{"name":"Ann"}') });
    await t.addPresence('pres', { user: 'u2', client: 'c2', connInfo: new Uint8Array([0xff, 0x00]) });
    const p = await call(t, 'presence', { channel: 'pres' });
    assert.deepEqual(p, {
      result: {
        presence: {
          c1: { user: 'u1', client: 'c1', conn_info: { name: 'Ann' } },
          // Binary info is not JSON: it is sent as a base64 string so the response stays valid.
          c2: { user: 'u2', client: 'c2', conn_info: '/wA=' },
        },
      },
    });
    assert.deepEqual(await call(t, 'presence_stats', { channel: 'pres' }), { result: { num_clients: 2, num_users: 2 } });
    assert.deepEqual(await call(t, 'presence_stats', { channel: 'nobody' }), { result: { num_clients: 0, num_users: 0 } });
    assert.deepEqual(await call(t, 'presence', { channel: 'nobody' }), { result: { presence: {} } });
    assert.deepEqual(await call(t, 'presence', { channel: 'nohist:a' }), { error: { code: 108, message: 'not available' } });
  });

  test('history and history_remove: publications with raw data, binary as base64, tags', async () => {
    await call(t, 'publish', { channel: 'bin:h', data: { a: 1 }, tags: { t: 'v' } });
    await call(t, 'publish', { channel: 'bin:h', b64data: Buffer.from([1, 2, 3]).toString('base64') });
    const h = (await call(t, 'history', { channel: 'bin:h', limit: 10 }))['result'] as {
      publications: Array<{ data: unknown; offset: number; tags?: Record<string, string> }>;
      epoch: string;
      offset: number;
    };
    assert.deepEqual(h.publications, [
      { data: { a: 1 }, offset: 1, tags: { t: 'v' } },
      { data: 'AQID', offset: 2 },
    ]);
    assert.equal(h.offset, 2);
    const top = (await call(t, 'history', { channel: 'bin:h' }))['result'];
    assert.deepEqual(top, { publications: [], epoch: h.epoch, offset: 2 });
    assert.deepEqual(await call(t, 'history_remove', { channel: 'bin:h' }), { result: {} });
    assert.deepEqual((await call(t, 'history', { channel: 'bin:h', limit: -1 }))['result'], { publications: [], epoch: h.epoch, offset: 2 });
    assert.deepEqual(await call(t, 'history', { channel: 'bin:h', since: { offset: 1, epoch: 'bad' }, limit: 1 }), {
      error: { code: 112, message: 'unrecoverable position' },
    });
  });

  test('a payload nested deeper than the decoder allows is 400, not a stack overflow', async () => {
    const deep = `{"channel":"a","data":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const r = await post(`${t.httpUrl}/api/publish`, deep);
    assert.equal(r.status, 400);
    assert.equal((await post(`${t.httpUrl}/api/info`, '{}')).status, 200);
  });

  test('info, channels, rpc', async () => {
    const info = (await call(t, 'info', {}))['result'] as { nodes: Array<Record<string, unknown>> };
    assert.deepEqual(info.nodes, [{ uid: 'node-uid-1', name: 'test-node', version: '0.1.0', num_clients: 3, num_users: 2, num_channels: 4, uptime: 42, num_subs: 5 }]);
    // An empty body is the empty request.
    const empty = await post(`${t.httpUrl}/api/info`, null);
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.json(), { result: info });
    t.control.channelCounts = new Map([
      ['chat:a', 1],
      ['news', 2],
    ]);
    assert.deepEqual(await call(t, 'channels', { pattern: 'chat:*' }), { result: { channels: { 'chat:a': { num_clients: 1 } } } });
    assert.deepEqual(await call(t, 'channels', { pattern: 'none*' }), { result: { channels: {} } });
    assert.deepEqual(await call(t, 'rpc', { method: 'echo', params: { x: [1] } }), { result: { data: { x: [1] } } });
    assert.deepEqual(await call(t, 'rpc', { method: 'other' }), { error: { code: 104, message: 'method not found' } });
  });

  test('batch: replies in order, sequential and parallel', async () => {
    const seq = await call(t, 'batch', {
      commands: [{ publish: { channel: 'batch1', data: { i: 1 } } }, { publish: { channel: 'nope:x', data: {} } }, { presence_stats: { channel: 'batch1' } }],
    });
    const replies = seq['replies'] as Array<Record<string, unknown>>;
    assert.equal((replies[0]!['publish'] as { offset: number }).offset, 1);
    assert.deepEqual(replies[1], { error: { code: 102, message: 'unknown channel' } });
    assert.deepEqual(replies[2], { presence_stats: { num_clients: 0, num_users: 0 } });
    const par = await call(t, 'batch', { parallel: true, commands: [{ publish: { channel: 'batch2', data: 1 } }, { publish: { channel: 'batch3', data: 2 } }] });
    assert.deepEqual((par['replies'] as Array<{ publish: { offset: number } }>).map((r) => r.publish.offset), [1, 1]);
  });
});

describe('HTTP API auth', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi({ grpc: false });
  });
  after(() => t.close());
  const body = '{"channel":"auth","data":{}}';

  test('X-API-Key, Authorization: apikey (any case), or ?api_key= authenticate', async () => {
    for (const [path, headers] of [
      ['/api/publish', { 'X-API-Key': KEY }],
      ['/api/publish', { Authorization: `apikey ${KEY}` }],
      ['/api/publish', { Authorization: `APIKEY ${KEY}` }],
      ['/api/publish', { Authorization: `ApiKey ${KEY}` }],
      [`/api/publish?api_key=${encodeURIComponent(KEY)}`, {}],
    ] as const) {
      const r = await post(`${t.httpUrl}${path}`, body, headers);
      assert.equal(r.status, 200, JSON.stringify(headers));
    }
  });

  test('a missing or wrong key gets 401 with an empty body', async () => {
    for (const [path, headers] of [
      ['/api/publish', {}],
      ['/api/publish', { 'X-API-Key': 'wrong' }],
      ['/api/publish', { 'X-API-Key': `${KEY}x` }],
      ['/api/publish', { Authorization: `Bearer ${KEY}` }],
      ['/api/publish', { Authorization: KEY }],
      ['/api/publish?api_key=wrong', {}],
      // The header is looked at first: a wrong header is not rescued by a right query parameter.
      [`/api/publish?api_key=${KEY}`, { 'X-API-Key': 'wrong' }],
      ['/api', {}],
      ['/api/batch', { 'X-API-Key': '' }],
    ] as const) {
      const r = await post(`${t.httpUrl}${path}`, body, headers);
      assert.equal(r.status, 401, `${path} ${JSON.stringify(headers)}`);
      assert.equal(r.body, '');
    }
    assert.match(await t.registry.metrics(), /rotor_api_rejected_total\{protocol="http",reason="unauthorized"\} 9/);
  });

  test('an empty configured key refuses everything; insecure mode needs no key', async () => {
    const noKey = await startTestApi({ grpc: false, config: { http_api: { key: '' } } });
    try {
      assert.equal((await post(`${noKey.httpUrl}/api/info`, '{}', {})).status, 401);
      assert.equal((await post(`${noKey.httpUrl}/api/info`, '{}', { 'X-API-Key': '' })).status, 401);
    } finally {
      await noKey.close();
    }
    const insecure = await startTestApi({ grpc: false, config: { http_api: { key: '', insecure: true } } });
    try {
      assert.equal((await post(`${insecure.httpUrl}/api/info`, '{}', {})).status, 200);
    } finally {
      await insecure.close();
    }
  });
});

describe('HTTP API request errors', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi({ grpc: false, config: { http_api: { max_request_body_size: 1024 } } });
  });
  after(() => t.close());

  test('405 for anything but POST; 404 for an unknown method', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const r = await post(`${t.httpUrl}/api/publish`, method === 'GET' ? null : '{}', { 'X-API-Key': KEY }, method);
      assert.equal(r.status, 405, method);
    }
    assert.equal((await post(`${t.httpUrl}/api`, null, { 'X-API-Key': KEY }, 'GET')).status, 405);
    assert.equal((await post(`${t.httpUrl}/api/map_publish`, '{}')).status, 404);
    assert.equal((await post(`${t.httpUrl}/api/publish/extra`, '{}')).status, 404);
  });

  test('400 plain text for a body that is not the request JSON', async () => {
    for (const body of ['{"channel":', '{"channel":5}', '[1]', '"x"', 'null', '{"channel":"a","data":{oops}}', '{"channel":"a"} trailing', '\u0000']) {
      const r = await post(`${t.httpUrl}/api/publish`, body);
      assert.equal(r.status, 400, body.slice(0, 40));
      assert.match(r.contentType ?? '', /text\/plain/);
      assert.match(r.body, /^Bad Request/);
    }
    // The server is unharmed.
    assert.equal((await post(`${t.httpUrl}/api/info`, '{}')).status, 200);
  });

  test('413 over max_request_body_size: by Content-Length, and while streaming a chunked body', async () => {
    const big = `{"channel":"a","data":"${'x'.repeat(2000)}"}`;
    const r = await post(`${t.httpUrl}/api/publish`, big);
    assert.equal(r.status, 413);
    // A chunked body (no Content-Length) is cut off as soon as it crosses the limit.
    const chunks = [big.slice(0, 600), big.slice(600, 1200), big.slice(1200)];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
        controller.close();
      },
    });
    const res = await fetch(`${t.httpUrl}/api/publish`, { method: 'POST', headers: { 'X-API-Key': KEY }, body: stream, duplex: 'half' } as RequestInit);
    await res.arrayBuffer();
    assert.equal(res.status, 413);
    // Exactly at the limit is fine.
    const exact = `{"channel":"a","data":"${'y'.repeat(1024 - 25)}"}`;
    assert.equal(exact.length, 1024);
    assert.equal((await post(`${t.httpUrl}/api/publish`, exact)).status, 200);
    assert.match(await t.registry.metrics(), /rotor_api_rejected_total\{protocol="http",reason="too_large"\} 2/);
  });
});

describe('HTTP transport error mode', () => {
  test('by header: API errors become HTTP statuses with {code,message}', async () => {
    const t = await startTestApi({ grpc: false });
    try {
      const h = { 'X-API-Key': KEY, 'X-Centrifugo-Error-Mode': 'transport' };
      const cases: Array<[string, unknown, number, number]> = [
        ['publish', { channel: 'nope:x', data: {} }, 404, 102],
        ['publish', { channel: '', data: {} }, 400, 107],
        ['presence', { channel: 'nohist:a' }, 400, 108],
        ['rpc', { method: 'x' }, 400, 108],
        ['history', { channel: 'news', since: { offset: 1, epoch: 'zzz' } }, 416, 112],
      ];
      for (const [method, params, status, code] of cases) {
        const r = await post(`${t.httpUrl}/api/${method}`, JSON.stringify(params), h);
        assert.equal(r.status, status, method);
        const body = r.json() as { code: number; message: string };
        assert.equal(body.code, code);
        assert.equal(typeof body.message, 'string');
      }
      // Successes are unchanged; without the header errors stay in the body.
      assert.equal((await post(`${t.httpUrl}/api/publish`, '{"channel":"ok","data":{}}', h)).status, 200);
      assert.equal((await post(`${t.httpUrl}/api/publish`, '{"channel":"nope:x","data":{}}')).status, 200);
      // A batch never fails as a whole except for its own limits.
      assert.equal((await post(`${t.httpUrl}/api/batch`, '{"commands":[{"publish":{"channel":"nope:x","data":{}}}]}', h)).status, 200);
    } finally {
      await t.close();
    }
  });

  test('by config: http_api.error_mode transport', async () => {
    const t = await startTestApi({ grpc: false, config: { http_api: { error_mode: 'transport' } } });
    try {
      const r = await post(`${t.httpUrl}/api/publish`, '{"channel":"nope:x","data":{}}');
      assert.equal(r.status, 404);
      assert.deepEqual(r.json(), { code: 102, message: 'unknown channel' });
    } finally {
      await t.close();
    }
  });

  test('a batch over its size limit is refused with a status in both modes', async () => {
    const t = await startTestApi({ grpc: false, deps: { maxBatchSize: 1 } });
    try {
      const r = await post(`${t.httpUrl}/api/batch`, '{"commands":[{"info":{}},{"info":{}}]}');
      assert.equal(r.status, 400);
      assert.equal((r.json() as { code: number }).code, 107);
    } finally {
      await t.close();
    }
  });
});

describe('legacy POST /api', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi({ grpc: false });
  });
  after(() => t.close());

  test('newline-delimited commands get newline-delimited replies with their ids', async () => {
    const body = [
      '{"id":1,"method":"publish","params":{"channel":"legacy","data":{"v":1}}}',
      '{"id":2,"method":"Presence_Stats","params":{"channel":"legacy"}}',
      '{"id":3,"method":"nope","params":{}}',
      '{"id":4,"method":"publish","params":{"channel":5}}',
      '{"id":5,"method":6,"params":{"channel":"legacy","limit":-1}}',
      '{"method":"info"}',
      '{"id":7,"method":"publish","params":{"channel":"nope:x","data":{}}}',
    ].join('\n');
    const r = await post(`${t.httpUrl}/api`, body);
    assert.equal(r.status, 200);
    assert.ok(!r.body.endsWith('\n'), 'no trailing newline');
    const lines = r.body.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 7);
    assert.equal(lines[0]!['id'], 1);
    assert.equal((lines[0]!['result'] as { offset: number }).offset, 1);
    assert.deepEqual(lines[1], { id: 2, result: { num_clients: 0, num_users: 0 } });
    assert.deepEqual(lines[2], { id: 3, error: { code: 104, message: 'method not found' } });
    assert.deepEqual(lines[3], { id: 4, error: { code: 107, message: 'bad request' } });
    assert.deepEqual((lines[4]!['result'] as { publications: Array<{ data: unknown }> }).publications.map((p) => p.data), [{ v: 1 }]);
    assert.equal(lines[5]!['id'], undefined);
    assert.equal((lines[5]!['result'] as { nodes: unknown[] }).nodes.length, 1);
    assert.deepEqual(lines[6], { id: 7, error: { code: 102, message: 'unknown channel' } });
  });

  test('an empty or malformed body is 400', async () => {
    for (const body of ['', '\n', '{"method":"info"', 'not json', '{"id":"x","method":"info"}']) {
      const r = await post(`${t.httpUrl}/api`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
    }
  });
});

test('handler_prefix "/" serves methods at the root and the legacy endpoint at /', async () => {
  const t = await startTestApi({ grpc: false, config: { http_api: { handler_prefix: '/' } } });
  try {
    assert.equal((await post(`${t.httpUrl}/info`, '{}')).status, 200);
    assert.equal((await post(`${t.httpUrl}/`, '{"method":"info"}')).status, 200);
  } finally {
    await t.close();
  }
});

test('custom handler_prefix', async () => {
  const t = await startTestApi({ grpc: false, config: { http_api: { handler_prefix: '/v1/server/' } } });
  try {
    assert.equal((await post(`${t.httpUrl}/v1/server/info`, '{}')).status, 200);
    assert.equal((await post(`${t.httpUrl}/v1/server`, '{"method":"info"}')).status, 200);
    assert.equal((await post(`${t.httpUrl}/api/info`, '{}')).status, 404);
  } finally {
    await t.close();
  }
});

/** A Publisher that holds each publish until released. */
function gated(inner: Publisher): { publisher: Publisher; started: () => number; release: () => void } {
  const gate = deferred();
  let started = 0;
  return {
    started: () => started,
    release: () => gate.resolve(),
    publisher: {
      async publish(req: PublishRequest) {
        started++;
        await gate.promise;
        if (req.channel === 'fail') throw new RotorError(Errors.internal);
        return inner.publish(req);
      },
    },
  };
}

test('a client that disconnects mid-body or before the answer harms nothing', async () => {
  let g: ReturnType<typeof gated> | null = null;
  const t = await startTestApi({
    grpc: false,
    deps: {
      publisher: {
        publish: (req) => g!.publisher.publish(req),
      },
    },
  });
  g = gated(t.publisher);
  try {
    const port = Number(new URL(t.httpUrl).port);
    const raw = (payload: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => {
          s.write(payload, () => {
            s.destroy();
            resolve();
          });
        });
        s.on('error', reject);
      });
    // Headers promise 1000 bytes; 10 arrive; the socket goes away.
    await raw(`POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEY}\r\nContent-Length: 1000\r\n\r\n{"channel"`);
    // A complete request whose publish is held; the client leaves before the answer.
    const body = '{"channel":"held","data":{}}';
    await raw(`POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEY}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await waitFor(() => g!.started() === 1, { what: 'the held publish to start' });
    // Releasing it makes the service answer into an aborted response: it must be skipped.
    g.release();
    const r = await post(`${t.httpUrl}/api/publish`, '{"channel":"after","data":{}}');
    assert.equal(r.status, 200);
    const h = await post(`${t.httpUrl}/api/history`, '{"channel":"held","limit":-1}');
    assert.equal((h.json() as { result: { publications: unknown[] } }).result.publications.length, 1, 'the accepted publication is kept');
  } finally {
    await t.close();
  }
});
