import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NatsParser } from './nats-parser.ts';

function collect() {
  const events: string[] = [];
  const parser = new NatsParser({
    onMsg: (buf, start, end) => events.push(`msg:${Buffer.from(buf.subarray(start, end)).toString('latin1')}`),
    onPing: () => events.push('ping'),
    onPong: () => events.push('pong'),
    onInfo: (json) => events.push(`info:${json}`),
    onError: (m) => events.push(`err:${m}`),
  });
  return { events, parser };
}

const STREAM =
  'INFO {"server_id":"x","max_payload":1048576}\r\n' +
  'MSG bench.0 1 5\r\nhello\r\n' +
  'PING\r\n' +
  'MSG bench.0 1 0\r\n\r\n' +
  'MSG bench.1 2 _INBOX.abc 8\r\nwith\r\nnl\r\n' +
  '+OK\r\n' +
  'PONG\r\n' +
  'MSG bench.0 1 3\r\nend\r\n';

const EXPECTED = ['info:{"server_id":"x","max_payload":1048576}', 'msg:hello', 'ping', 'msg:', 'msg:with\r\nnl', 'pong', 'msg:end'];

test('many messages in one buffer', () => {
  const { events, parser } = collect();
  const b = Buffer.from(STREAM, 'latin1');
  parser.feed(b, 0, b.length);
  assert.deepEqual(events, EXPECTED);
});

test('the stream split at every position (two frames) gives the same messages', () => {
  const b = Buffer.from(STREAM, 'latin1');
  for (let cut = 0; cut <= b.length; cut++) {
    const { events, parser } = collect();
    parser.feed(b.subarray(0, cut), 0, cut);
    const rest = b.subarray(cut);
    parser.feed(rest, 0, rest.length);
    assert.deepEqual(events, EXPECTED, `cut at ${cut}`);
  }
});

test('the stream fed one byte at a time gives the same messages', () => {
  const { events, parser } = collect();
  const b = Buffer.from(STREAM, 'latin1');
  for (let i = 0; i < b.length; i++) parser.feed(b, i, i + 1);
  assert.deepEqual(events, EXPECTED);
});

test('a feed with an offset window reads only that window', () => {
  const { events, parser } = collect();
  const b = Buffer.from('garbageMSG a 1 2\r\nok\r\ntrailing', 'latin1');
  parser.feed(b, 7, b.length - 8);
  assert.deepEqual(events, ['msg:ok']);
});

test('-ERR is reported and parsing continues', () => {
  const { events, parser } = collect();
  const b = Buffer.from("-ERR 'Slow Consumer'\r\nPING\r\n", 'latin1');
  parser.feed(b, 0, b.length);
  assert.deepEqual(events, ["err:'Slow Consumer'", 'ping']);
});

test('malformed input fails the parser once and stops it', () => {
  for (const bad of ['MSG bench.0 1 xyz\r\n', 'HMSG a 1 10 12\r\n', 'BOGUS\r\n', 'MSG a 1 2\r\nokXX']) {
    const { events, parser } = collect();
    const b = Buffer.from(bad + 'PING\r\n', 'latin1');
    parser.feed(b, 0, b.length);
    assert.equal(parser.failed, true, bad);
    assert.equal(events.filter((e) => e.startsWith('err:')).length, 1, bad);
    assert.ok(!events.includes('ping'), `${bad}: nothing parsed after the failure`);
  }
});

test('an endless control line is refused', () => {
  const { events, parser } = collect();
  const b = Buffer.alloc(70 * 1024, 0x41);
  parser.feed(b, 0, b.length);
  assert.equal(parser.failed, true);
  assert.equal(events.length, 1);
});
