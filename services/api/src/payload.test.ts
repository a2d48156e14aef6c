import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RotorError } from '@rotor/core';
import { dataFitsFormat, decodeBase64, payloadOf } from './payload.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('b64data wins over data and is decoded strictly', () => {
  assert.deepEqual([...payloadOf(enc('{}'), 'AAEC')], [0, 1, 2]);
  assert.deepEqual([...payloadOf(enc('{}'), '')], [...enc('{}')]);
  assert.equal(payloadOf(undefined, undefined).length, 0);
  for (const bad of ['AAE', 'AA=C', 'A*==', 'AAEC\n', 'AA==AA==', 'QQ']) {
    assert.throws(() => decodeBase64(bad), (e: unknown) => e instanceof RotorError && e.code === 107, bad);
  }
  assert.deepEqual([...decodeBase64('QQ==')], [65]);
  assert.equal(decodeBase64('').length, 0);
});

test('publication_data_format rules', () => {
  assert.equal(dataFitsFormat(new Uint8Array(0), ''), false);
  assert.equal(dataFitsFormat(new Uint8Array([0xff]), ''), true);
  assert.equal(dataFitsFormat(enc('{"a":1}'), 'json'), true);
  assert.equal(dataFitsFormat(enc('[1]'), 'json'), true);
  assert.equal(dataFitsFormat(enc('{"a":'), 'json'), false);
  assert.equal(dataFitsFormat(new Uint8Array(0), 'json'), false);
  assert.equal(dataFitsFormat(enc(' {"a":1} '), 'json_object'), true);
  assert.equal(dataFitsFormat(enc('[1]'), 'json_object'), false);
  assert.equal(dataFitsFormat(enc('"s"'), 'json_object'), false);
  assert.equal(dataFitsFormat(enc('{'), 'json_object'), false);
  assert.equal(dataFitsFormat(new Uint8Array(0), 'binary'), true);
  assert.equal(dataFitsFormat(new Uint8Array([0, 255]), 'binary'), true);
});
