// The `rotor` CLI as a user runs it: a child process per invocation, in a temp working directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JoseTokenVerifier, loadConfig } from '@rotor/core';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `rotor args…` with only PATH (plus `env`) in its environment. */
function rotor(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', tsx, main, ...args],
      { cwd, env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== 'number') return reject(err);
        resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
      },
    );
  });
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const commandNames = ['start', 'gateway', 'api', 'history', 'cluster', 'genconfig', 'checkconfig', 'gentoken', 'version'];

test('--help on the root and on every command; usage errors exit 2', async (t) => {
  const dir = tempDir(t);
  const root = await rotor(dir, ['--help']);
  assert.equal(root.code, 0);
  for (const name of commandNames) assert.match(root.stdout, new RegExp(`^  ${name} `, 'm'), name);

  const helps = await Promise.all(commandNames.map((name) => rotor(dir, [name, '--help'])));
  helps.forEach((r, i) => {
    assert.equal(r.code, 0, commandNames[i]);
    assert.match(r.stdout, new RegExp(`^Usage: rotor ${commandNames[i]}`), commandNames[i]);
  });

  const cases: Array<[string[], RegExp]> = [
    [[], /Usage: rotor <command>/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['genconfig', '--bogus'], /Unknown option '--bogus'/],
    [['checkconfig'], /missing argument/],
    [['checkconfig', 'a.json', 'b.json'], /unexpected argument "b.json"/],
    [['gentoken'], /--user is required/],
    [['gentoken', '--user', 'u', '--ttl', 'soon'], /--ttl: expected seconds or a duration/],
  ];
  const results = await Promise.all(cases.map(([args]) => rotor(dir, args)));
  results.forEach((r, i) => {
    const [args, re] = cases[i] as [string[], RegExp];
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  });
});

test('genconfig writes a private config with fresh secrets that checkconfig accepts; no overwrite without --force', async (t) => {
  const dir = tempDir(t);
  const gen = await rotor(dir, ['genconfig', '--output', 'rotor.json']);
  assert.equal(gen.code, 0, gen.stderr);
  const file = join(dir, 'rotor.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const first = readFileSync(file, 'utf8');
  const raw = JSON.parse(first) as { client: { token: { hmac_secret_key: string } }; http_api: { key: string }; grpc_api: { key: string } };
  const secrets = [raw.client.token.hmac_secret_key, raw.http_api.key, raw.grpc_api.key];
  assert.equal(new Set(secrets).size, 3, 'three distinct secrets');
  for (const s of secrets) assert.ok(s.length >= 40, 'long enough');
  const { config, warnings } = loadConfig({ file, env: {} });
  assert.deepEqual(warnings, []);
  assert.ok(config.channel.namespaces.length > 0, 'a default namespace');

  const check = await rotor(dir, ['checkconfig', 'rotor.json']);
  assert.equal(check.code, 0, check.stderr);
  assert.equal(check.stderr, '', 'no warnings');
  assert.match(check.stdout, /configuration is valid/);

  const again = await rotor(dir, ['genconfig', '-o', 'rotor.json']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists \(use --force/);
  assert.equal(readFileSync(file, 'utf8'), first, 'untouched');

  const forced = await rotor(dir, ['genconfig', '-o', 'rotor.json', '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.notEqual(readFileSync(file, 'utf8'), first, 'new secrets');
});

test('checkconfig names every problem of a broken config and exits 1; warnings alone exit 0', async (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'broken.yaml'),
    [
      'client:',
      '  ping_interval: 5s',
      '  pong_timeout: 10s',
      '  channel_limit: lots',
      'channel:',
      '  namespaces:',
      '    - name: "!"',
      '    - name: chat',
      '      history_ttl: 300',
      'http_server:',
      '  port: 99999',
      '',
    ].join('\n'),
  );
  const r = await rotor(dir, ['checkconfig', 'broken.yaml']);
  assert.equal(r.code, 1);
  for (const expected of [
    'client.pong_timeout: must be less than client.ping_interval (5s)',
    'client.channel_limit: expected an integer',
    'channel.namespaces[0].name: invalid namespace name "!"',
    'channel.namespaces[1].history_ttl: bare number 300 is not a duration',
    'http_server.port: must be <= 65535',
  ]) {
    assert.ok(r.stderr.includes(expected), `${expected}\n${r.stderr}`);
  }
  assert.match(r.stderr, /invalid configuration \(5 problems\)/);

  writeFileSync(join(dir, 'warn.json'), JSON.stringify({ engine: { type: 'redis' }, clinet: {} }));
  const w = await rotor(dir, ['checkconfig', 'warn.json'], { ROTOR_HTTP_SERVER_PORT: '8100' });
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stderr, /^warning: engine: not supported by Rotor/m);
  assert.match(w.stderr, /^warning: clinet: unknown key/m);

  const envBroken = await rotor(dir, ['checkconfig', 'warn.json'], { ROTOR_HTTP_SERVER_PORT: 'eighty' });
  assert.equal(envBroken.code, 1);
  assert.match(envBroken.stderr, /http_server\.port \(from ROTOR_HTTP_SERVER_PORT\): expected an integer/);

  const missing = await rotor(dir, ['checkconfig', 'nope.json']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read config file/);
});

test('gentoken prints tokens the verifier accepts', async (t) => {
  const dir = tempDir(t);
  assert.equal((await rotor(dir, ['genconfig'])).code, 0);
  const file = join(dir, 'config.json');
  const { config } = loadConfig({ file, env: {} });
  const verifier = new JoseTokenVerifier(config.client);

  const [conn, noExp, sub] = await Promise.all([
    rotor(dir, ['gentoken', '--user', 'alice', '--config', 'config.json', '--ttl', '1h', '--channel', 'news', '--channel', 'chat:lobby', '--info', '{"name":"Alice"}']),
    rotor(dir, ['gentoken', '-u', 'bob', '-c', 'config.json', '--ttl', '0']),
    rotor(dir, ['gentoken', '-u', 'alice', '--subscription', '$chat:secret', '--client', 'c-1'], { ROTOR_CONFIG: 'config.json' }),
  ]);
  for (const r of [conn, noExp, sub]) assert.equal(r.code, 0, r.stderr);

  const c = await verifier.verifyConnectionToken(conn.stdout.trim());
  assert.ok(c.ok, c.ok ? '' : c.detail);
  assert.equal(c.claims.user, 'alice');
  assert.deepEqual([...c.claims.subs.keys()], ['news', 'chat:lobby']);
  assert.equal(Buffer.from(c.claims.info ?? []).toString(), '{"name":"Alice"}');
  const now = Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(c.claims.expireAt - (now + 3600)) <= 60, `expireAt ${c.claims.expireAt}`);

  const n = await verifier.verifyConnectionToken(noExp.stdout.trim());
  assert.deepEqual(n.ok ? [n.claims.user, n.claims.expireAt] : n.detail, ['bob', 0]);

  const s = await verifier.verifySubscriptionToken(sub.stdout.trim());
  assert.deepEqual(s.ok ? [s.claims.user, s.claims.channel, s.claims.client] : s.detail, ['alice', '$chat:secret', 'c-1']);
  assert.equal((await verifier.verifyConnectionToken(sub.stdout.trim())).ok, false, 'a subscription token is no connection token');
});

test('gentoken takes the secret from the environment, and fails clearly without one', async (t) => {
  const dir = tempDir(t);
  const ok = await rotor(dir, ['gentoken', '-u', 'u1'], { ROTOR_CLIENT_TOKEN_HMAC_SECRET_KEY: 'env-secret', ROTOR_CLIENT_TOKEN_AUDIENCE: 'app' });
  assert.equal(ok.code, 0, ok.stderr);
  const verifier = new JoseTokenVerifier(loadConfig({ env: { ROTOR_CLIENT_TOKEN_HMAC_SECRET_KEY: 'env-secret', ROTOR_CLIENT_TOKEN_AUDIENCE: 'app' } }).config.client);
  const r = await verifier.verifyConnectionToken(ok.stdout.trim());
  assert.equal(r.ok ? r.claims.user : r.detail, 'u1');

  const none = await rotor(dir, ['gentoken', '-u', 'u1']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /client\.token\.hmac_secret_key is not set/);
});

test('version prints the version; role commands say they are not available yet', async (t) => {
  const dir = tempDir(t);
  const v = await rotor(dir, ['version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^rotor \d+\.\d+\.\d+ \(node v\d+/);
  const roles = await Promise.all(['gateway', 'api', 'cluster'].map((name) => rotor(dir, [name])));
  for (const r of roles) {
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not available yet/);
  }
});
