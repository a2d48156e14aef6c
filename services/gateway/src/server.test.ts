import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Format } from './hub.ts';
import { hardBackpressureLimit, negotiateFormat } from './server.ts';

test('the centrifuge-protobuf subprotocol selects protobuf and is echoed', () => {
  assert.deepEqual(negotiateFormat('centrifuge-protobuf', ''), { format: Format.protobuf, echo: 'centrifuge-protobuf' });
  assert.deepEqual(negotiateFormat('centrifuge-json, centrifuge-protobuf', ''), { format: Format.protobuf, echo: 'centrifuge-protobuf' });
});

test('cf_protocol or format query parameters select protobuf', () => {
  assert.deepEqual(negotiateFormat('', 'cf_protocol=protobuf'), { format: Format.protobuf, echo: '' });
  assert.deepEqual(negotiateFormat('', 'x=1&format=protobuf'), { format: Format.protobuf, echo: '' });
});

test('JSON otherwise, echoing centrifuge-json when offered', () => {
  assert.deepEqual(negotiateFormat('', ''), { format: Format.json, echo: '' });
  assert.deepEqual(negotiateFormat('centrifuge-json', 'cf_protocol=json'), { format: Format.json, echo: 'centrifuge-json' });
  assert.deepEqual(negotiateFormat('chat', ''), { format: Format.json, echo: '' });
});

test('the hard backpressure limit leaves at least 1 MiB (or the soft limit again) above the soft one', () => {
  assert.equal(hardBackpressureLimit(65536), 65536 + 1024 * 1024);
  assert.equal(hardBackpressureLimit(4 * 1024 * 1024), 8 * 1024 * 1024);
});
