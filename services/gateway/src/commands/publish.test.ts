import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Namespace } from '@rotor/core';
import { validData } from './publish.ts';

const ns = (publicationDataFormat: Namespace['publicationDataFormat']) => ({ publicationDataFormat }) as Namespace;
const bytes = (s: string) => new TextEncoder().encode(s);

test('default format: any non-empty payload', () => {
  assert.equal(validData(ns(''), bytes('x')), true);
  assert.equal(validData(ns(''), bytes('')), false);
});

test('json: any JSON value; json_object: only objects', () => {
  assert.equal(validData(ns('json'), bytes('[1,2]')), true);
  assert.equal(validData(ns('json'), bytes('{"a":')), false);
  assert.equal(validData(ns('json_object'), bytes('{"a":1}')), true);
  assert.equal(validData(ns('json_object'), bytes('[1]')), false);
  assert.equal(validData(ns('json_object'), bytes('null')), false);
  assert.equal(validData(ns('json'), new Uint8Array([0xff, 0xfe])), false);
});

test('binary: anything, even empty', () => {
  assert.equal(validData(ns('binary'), new Uint8Array([0, 1, 2])), true);
  assert.equal(validData(ns('binary'), new Uint8Array(0)), true);
});
