import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, type LogLevel } from './log.ts';

function capture(level: LogLevel, fields?: Record<string, unknown>) {
  const lines: string[] = [];
  const log = createLogger({ level, write: (l) => lines.push(l), clock: { now: () => Date.UTC(2030, 0, 2, 3, 4, 5, 6) }, ...(fields ? { fields } : {}) });
  const records = () => lines.map((l) => {
    assert.ok(l.endsWith('\n') && !l.slice(0, -1).includes('\n'), 'one line per record');
    return JSON.parse(l) as Record<string, unknown>;
  });
  return { log, lines, records };
}

test('levels filter lines; each line is one JSON object with time, level, msg and fields', () => {
  const cases: Array<[LogLevel, string[]]> = [
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ];
  for (const [level, written] of cases) {
    const { log, records } = capture(level);
    log.debug('d', { n: 1 });
    log.info('i', { n: 2 });
    log.warn('w', { n: 3 });
    log.error('e', { n: 4 });
    assert.deepEqual(records().map((r) => r['level']), written, level);
    assert.equal(log.debugEnabled, level === 'debug');
  }
  const { log, records } = capture('info');
  log.info('hello', { user: 'u1', count: 3 });
  assert.deepEqual(records(), [{ time: '2030-01-02T03:04:05.006Z', level: 'info', msg: 'hello', user: 'u1', count: 3 }]);
});

test('disabled debug never evaluates lazy fields; enabled debug does', () => {
  let calls = 0;
  const lazy = () => {
    calls++;
    return { big: 'x' };
  };
  capture('info').log.debug('skip', lazy);
  assert.equal(calls, 0);
  const { log, records } = capture('debug');
  log.debug('take', lazy);
  assert.equal(calls, 1);
  assert.equal(records()[0]?.['big'], 'x');
});

test('child loggers add fixed fields without touching the parent', () => {
  const { log, records } = capture('info', { node: 'n1' });
  const gw = log.child({ role: 'gateway' });
  const conn = gw.child({ client: 'c-9' });
  conn.info('connected', { user: 'u' });
  log.info('parent');
  const [a, b] = records();
  assert.deepEqual(a, { time: '2030-01-02T03:04:05.006Z', level: 'info', msg: 'connected', node: 'n1', role: 'gateway', client: 'c-9', user: 'u' });
  assert.deepEqual(b, { time: '2030-01-02T03:04:05.006Z', level: 'info', msg: 'parent', node: 'n1' });
  assert.equal(conn.level, 'info');
});

test('fields cannot overwrite time, level or msg', () => {
  const { log, records } = capture('info');
  log.warn('real', { time: 'fake', level: 'debug', msg: 'forged' });
  assert.deepEqual(records()[0], { time: '2030-01-02T03:04:05.006Z', level: 'warn', msg: 'real' });
});

test('secret-looking keys are redacted at any depth, including child fields', () => {
  const SECRET = 'S3CR3T-VALUE';
  const { log, lines, records } = capture('debug');
  log.child({ apiKey: SECRET }).info('config', {
    config: { client: { token: { audience: 'aud' }, auth: { hmac_secret_key: SECRET, hmacSecretKey: SECRET, audience: 'aud' } }, http_api: { key: SECRET } },
    headers: { Authorization: `apikey ${SECRET}`, cookie: SECRET, 'x-request-id': 'r1' },
    list: [{ password: SECRET }, { passwd: SECRET }, { accessToken: SECRET }, { refresh_token: SECRET }, { token: SECRET }],
    channel: 'news',
  });
  assert.ok(!lines.join('').includes(SECRET), lines.join(''));
  const r = records()[0] as { config: { client: { token: unknown; auth: Record<string, unknown> }; http_api: Record<string, unknown> }; headers: Record<string, unknown>; list: Array<Record<string, unknown>>; apiKey: unknown; channel: unknown };
  assert.equal(r.apiKey, '[REDACTED]');
  assert.equal(r.config.client.token, '[REDACTED]', 'a key named token hides its whole value');
  assert.equal(r.config.client.auth['hmac_secret_key'], '[REDACTED]');
  assert.equal(r.config.client.auth['hmacSecretKey'], '[REDACTED]');
  assert.equal(r.config.client.auth['audience'], 'aud', 'non-secret siblings survive');
  assert.equal(r.config.http_api['key'], '[REDACTED]');
  assert.equal(r.headers['Authorization'], '[REDACTED]');
  assert.equal(r.headers['x-request-id'], 'r1');
  assert.deepEqual(r.list, [{ password: '[REDACTED]' }, { passwd: '[REDACTED]' }, { accessToken: '[REDACTED]' }, { refresh_token: '[REDACTED]' }, { token: '[REDACTED]' }]);
  assert.equal(r.channel, 'news');
});

test('errors, bytes, bigints and cycles serialise without throwing', () => {
  const { log, records } = capture('info');
  const err = Object.assign(new Error('boom'), { code: 'E_BOOM' });
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic['self'] = cyclic;
  log.error('failed', { err, buf: Buffer.from('abc'), u8: new Uint8Array(5), big: 12345678901234567890n, cyclic });
  const r = records()[0] as Record<string, unknown> & { err: Record<string, unknown>; cyclic: Record<string, unknown> };
  assert.equal(r.err['message'], 'boom');
  assert.equal(r.err['code'], 'E_BOOM');
  assert.match(String(r.err['stack']), /boom/);
  assert.equal(r['buf'], '<3 bytes>');
  assert.equal(r['u8'], '<5 bytes>');
  assert.equal(r['big'], '12345678901234567890');
  assert.deepEqual(r.cyclic, { name: 'loop', self: '[Circular]' });
});
