import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLegacyBody } from './legacy.ts';
import type { LegacyCommand } from './legacy.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function commands(body: string): { body: Uint8Array; cmds: LegacyCommand[] } {
  const b = enc(body);
  const r = parseLegacyBody(b, 100);
  if (!r.ok) throw new Error(r.error);
  return { body: b, cmds: r.commands };
}

function params(body: Uint8Array, c: LegacyCommand): string {
  return new TextDecoder().decode(body.subarray(c.paramsStart, c.paramsEnd));
}

test('parses newline-separated commands with string and integer methods', () => {
  const { body, cmds } = commands(
    '{"id":1,"method":"publish","params":{"channel":"a","data":{"x":"}\\"{"}}}\n' +
      '  \n' +
      '{"method":"PRESENCE_STATS","id":2,"params":{"channel":"b"}}\r\n' +
      '{"method":9}',
  );
  assert.equal(cmds.length, 3);
  assert.equal(cmds[0]!.id, '1');
  assert.equal(cmds[0]!.method?.name, 'publish');
  assert.equal(params(body, cmds[0]!), '{"channel":"a","data":{"x":"}\\"{"}}');
  assert.equal(cmds[1]!.method?.name, 'presence_stats');
  assert.equal(cmds[1]!.id, '2');
  assert.equal(params(body, cmds[1]!), '{"channel":"b"}');
  assert.equal(cmds[2]!.method?.name, 'info');
  assert.equal(cmds[2]!.id, null);
  assert.equal(cmds[2]!.paramsStart, cmds[2]!.paramsEnd);
});

test('integer methods follow the legacy enum', () => {
  const names = ['publish', 'broadcast', 'unsubscribe', 'disconnect', 'presence', 'presence_stats', 'history', 'history_remove', 'channels', 'info', 'rpc', 'subscribe', 'refresh'];
  names.forEach((name, i) => assert.equal(commands(`{"method":${i}}`).cmds[0]!.method?.name, name));
});

test('unknown methods (and batch, which is not a legacy method) parse with a null method', () => {
  assert.equal(commands('{"method":"nope"}').cmds[0]!.method, null);
  assert.equal(commands('{"method":14}').cmds[0]!.method, null);
  assert.equal(commands('{"method":"batch"}').cmds[0]!.method, null);
});

test('a missing method is the enum zero value, publish', () => {
  assert.equal(commands('{"params":{}}').cmds[0]!.method?.name, 'publish');
});

test('malformed bodies are rejected with a reason', () => {
  for (const body of ['', '\n\n', '{"method":"publish"', '[1,2]', '"x"', '{"id":-1}', '{"id":"7"}', '{"id":1.5}', '{"id":99999999999}', '{"method":true}', '{"method":"info"} {"method":"info"}']) {
    const r = parseLegacyBody(enc(body), 100);
    assert.equal(r.ok, false, JSON.stringify(body));
  }
});

test('the number of commands is limited', () => {
  const r = parseLegacyBody(enc('{"method":"info"}\n'.repeat(11)), 10);
  assert.equal(r.ok, false);
  assert.equal(parseLegacyBody(enc('{"method":"info"}\n'.repeat(10)), 10).ok, true);
});

test('null params and id are treated as absent', () => {
  const { cmds } = commands('{"id":null,"method":"info","params":null}');
  assert.equal(cmds[0]!.id, null);
  assert.equal(cmds[0]!.paramsStart, cmds[0]!.paramsEnd);
});
