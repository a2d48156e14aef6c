// The Centrifugo JSON rules (PROTOCOL.md §1.1, §7.1, §7.3) as generated from the schemas.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeJson, encodeJson, encodeBinary, decodeBinary } from '../src/wire/message.ts';
import type { MessageType } from '../src/wire/message.ts';
import { DecodeError } from '../src/wire/errors.ts';
import { isJson } from '../src/wire/json-reader.ts';
import * as client from '../src/gen/client.ts';
import * as api from '../src/gen/api.ts';
import { messageArb, oracleRoot } from './support/schema.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const json = <T>(type: MessageType<T>, m: T): string => dec.decode(encodeJson(type, m));
const parse = <T>(type: MessageType<T>, s: string): T => decodeJson(type, enc.encode(s));
const text = (u: Uint8Array | undefined): string | undefined => (u === undefined ? undefined : dec.decode(u));

describe('client protocol JSON encoding', () => {
  test('result objects are present even when empty', () => {
    assert.equal(json(client.Reply, { id: 3, publish: {} }), '{"id":3,"publish":{}}');
    assert.equal(json(client.Reply, { id: 4, unsubscribe: {} }), '{"id":4,"unsubscribe":{}}');
    assert.equal(json(client.Reply, { id: 2, subscribe: {} }), '{"id":2,"subscribe":{}}');
    assert.equal(json(client.Reply, {}), '{}', 'ping');
  });

  test('zero values are omitted except the always-present fields', () => {
    assert.equal(
      json(client.Reply, { id: 1, connect: { client: 'c', version: '', ping: 0, pong: false, expires: false } }),
      '{"id":1,"connect":{"client":"c"}}',
    );
    assert.equal(json(client.Reply, { id: 5, presenceStats: {} }), '{"id":5,"presence_stats":{"num_clients":0,"num_users":0}}');
    assert.equal(json(client.Reply, { id: 6, presence: {} }), '{"id":6,"presence":{"presence":{}}}');
    assert.equal(json(client.Reply, { id: 7, history: {} }), '{"id":7,"history":{"publications":[],"epoch":"","offset":0}}');
    assert.equal(json(client.ClientInfo, {}), '{"user":"","client":""}');
    assert.equal(json(client.Error, { code: 100, message: 'internal server error', temporary: false }), '{"code":100,"message":"internal server error"}');
  });

  test('bytes are embedded as raw JSON with raw newlines dropped', () => {
    const data = enc.encode('{\n  "text": "a\\nb",\n  "n": 12345678901234567890\n}');
    const out = json(client.Reply, { push: { channel: 'news', pub: { data, offset: 8 } } });
    assert.equal(out, '{"push":{"channel":"news","pub":{"data":{  "text": "a\\nb",  "n": 12345678901234567890},"offset":8}}}');
    assert.ok(!out.includes('\n'));
    assert.deepEqual(JSON.parse(out).push.pub.data, { text: 'a\nb', n: Number('12345678901234567890') });
  });

  test('presence doubles the key and keeps client ids as map keys', () => {
    const out = json(client.Reply, {
      id: 5,
      presence: { presence: { c1: { user: 'u1', client: 'c1', connInfo: enc.encode('{"a":1}') } } },
    });
    assert.equal(out, '{"id":5,"presence":{"presence":{"c1":{"user":"u1","client":"c1","conn_info":{"a":1}}}}}');
  });

  test('strings are escaped; non-ASCII is written as UTF-8', () => {
    const out = json(client.Push, { channel: 'a"b\\c\n\u0001é𝄞' });
    assert.equal(out, '{"channel":"a\\"b\\\\c\\n\\u0001é𝄞"}');
    assert.equal(JSON.parse(out).channel, 'a"b\\c\n\u0001é𝄞');
    const many = '\u0001'.repeat(500);
    assert.equal(JSON.parse(json(client.Push, { channel: many })).channel, many);
  });

  test('64-bit numbers are plain JSON numbers', () => {
    assert.equal(json(client.Publication, { offset: Number.MAX_SAFE_INTEGER, time: -5 }), '{"offset":9007199254740991,"time":-5}');
  });
});

describe('client protocol JSON decoding', () => {
  test('raw payloads keep their exact bytes (no re-serialisation)', () => {
    const raw = '{ "n" : 12345678901234567890 , "f": 1.0, "s": "\\u00e9" }';
    const cmd = parse(client.Command, `{"id":2,"publish":{"channel":"c","data":${raw}}}`);
    assert.equal(text(cmd.publish?.data), raw);
    assert.equal(text(parse(client.Command, '{"publish":{"data":  "str"  }}').publish?.data), '"str"');
    assert.equal(text(parse(client.Command, '{"publish":{"data":[1,[2,{}]]}}').publish?.data), '[1,[2,{}]]');
  });

  test('unknown keys (any shape) are skipped, null means absent, duplicates: last wins', () => {
    const cmd = parse(
      client.Command,
      '{"x":{"deep":[1,{"y":[null,true,false,-1.5e3]}]},"id":7,"subscribe":{"channel":"a","flag":1,"zz":"q","delta":null},"id":8,"connect":null}',
    );
    assert.deepEqual(cmd, { id: 8, subscribe: { channel: 'a', flag: 1 } });
  });

  test('lowerCamelCase keys are accepted as well as snake_case', () => {
    assert.deepEqual(parse(client.Command, '{"subRefresh":{"channel":"c"}}'), { subRefresh: { channel: 'c' } });
    assert.deepEqual(parse(client.Command, '{"sub_refresh":{"channel":"c"}}'), { subRefresh: { channel: 'c' } });
  });

  test('maps are prototype-less: __proto__ is an ordinary key', () => {
    const cmd = parse(client.Command, '{"connect":{"headers":{"__proto__":"x","constructor":"y"}}}');
    const h = cmd.connect!.headers!;
    assert.equal(Object.getPrototypeOf(h), null);
    assert.equal(h['__proto__'], 'x');
    assert.equal(h['constructor'], 'y');
    assert.equal(({} as Record<string, unknown>)['x'], undefined, 'Object.prototype untouched');
    const back = json(client.ConnectRequest, cmd.connect!);
    assert.equal(back, '{"headers":{"__proto__":"x","constructor":"y"}}');
  });

  test('64-bit integers: numbers or decimal strings; beyond 2^53-1 is an error', () => {
    assert.equal(parse(client.Command, '{"subscribe":{"offset":9007199254740991}}').subscribe?.offset, Number.MAX_SAFE_INTEGER);
    assert.equal(parse(client.Command, '{"subscribe":{"offset":"42"}}').subscribe?.offset, 42);
    assert.throws(() => parse(client.Command, '{"subscribe":{"offset":9007199254740992}}'), DecodeError);
    assert.throws(() => parse(client.Command, '{"subscribe":{"offset":"9007199254740992"}}'), DecodeError);
    assert.throws(() => parse(client.Command, '{"subscribe":{"offset":-1}}'), DecodeError);
    assert.equal(parse(client.Command, '{"subscribe":{"flag":-3}}').subscribe?.flag, -3);
  });

  const bad: Array<[string, string]> = [
    ['empty', ''],
    ['not an object', '[]'],
    ['string id', '{"id":"1"}'],
    ['fraction for uint32', '{"id":1.5}'],
    ['exponent for uint32', '{"id":1e2}'],
    ['uint32 overflow', '{"id":4294967296}'],
    ['negative uint32', '{"id":-1}'],
    ['leading zero', '{"id":01}'],
    ['int32 overflow', '{"history":{"limit":2147483648}}'],
    ['bool as number', '{"subscribe":{"recover":1}}'],
    ['string as number', '{"subscribe":{"channel":5}}'],
    ['object as string', '{"subscribe":{"channel":{}}}'],
    ['array for message', '{"subscribe":[]}'],
    ['trailing comma', '{"id":1,}'],
    ['missing comma', '{"id":1 "subscribe":{}}'],
    ['missing colon', '{"id" 1}'],
    ['single quotes', "{'id':1}"],
    ['unterminated object', '{"id":1'],
    ['unterminated string', '{"subscribe":{"channel":"abc}}'],
    ['bad escape', '{"subscribe":{"channel":"\\x"}}'],
    ['short unicode escape', '{"subscribe":{"channel":"\\u12"}}'],
    ['raw control char', '{"subscribe":{"channel":"a\tb"}}'],
    ['bad raw payload', '{"publish":{"data":{"a":}}}'],
    ['raw payload trailing comma', '{"publish":{"data":[1,]}}'],
    ['raw payload bare word', '{"publish":{"data":undefined}}'],
    ['raw NaN', '{"publish":{"data":NaN}}'],
    ['raw lone minus', '{"publish":{"data":-}}'],
    ['raw 1.', '{"publish":{"data":1.}}'],
    ['raw mismatched brackets', '{"publish":{"data":[1}}}'],
    ['trailing data', '{"id":1}{"id":2}'],
    ['invalid UTF-8 in key', '{"\xff":1}'],
    ['unknown value malformed', '{"zz":[1 2]}'],
  ];
  for (const [name, input] of bad) {
    test(`rejects ${name}`, () => {
      const bytes = name === 'invalid UTF-8 in key' ? new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) : enc.encode(input);
      assert.throws(() => decodeJson(client.Command, bytes), DecodeError);
    });
  }

  test('deeply nested raw JSON is bounded without recursion', () => {
    const ok = `{"publish":{"data":${'['.repeat(999)}${']'.repeat(999)}}}`;
    assert.equal(parse(client.Command, ok).publish?.data?.length, 1998);
    const deep = `{"publish":{"data":${'['.repeat(100000)}${']'.repeat(100000)}}}`;
    assert.throws(() => parse(client.Command, deep), /nested deeper/);
    const deepUnknown = `{"zz":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    assert.throws(() => parse(client.Command, deepUnknown), /nested deeper/);
  });

  test('escaped strings decode like JSON.parse', () => {
    const s = '"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud834\\udd1e é"';
    assert.equal(parse(client.Command, `{"subscribe":{"channel":${s}}}`).subscribe?.channel, JSON.parse(s));
  });

  test('isJson validates exactly one value', () => {
    for (const ok of ['1', ' {"a":[1,2,{"b":null}]} ', '"x"', 'true', '-0.5e-3', '[]']) assert.ok(isJson(enc.encode(ok)), ok);
    for (const no of ['', ' ', '{', '1 2', 'tru', '{"a" 1}', '[1,]', '01', "'x'"]) assert.ok(!isJson(enc.encode(no)), no);
    assert.ok(!isJson(new Uint8Array([0x22, 0x01, 0x22])), 'control character in string');
  });
});

describe('server API JSON', () => {
  test('responses: result or error, with empty results present', () => {
    assert.equal(json(api.PublishResponse, { result: { offset: 5, epoch: 'e' } }), '{"result":{"offset":5,"epoch":"e"}}');
    assert.equal(json(api.PublishResponse, { result: {} }), '{"result":{}}');
    assert.equal(json(api.PublishResponse, { error: { code: 102, message: 'unknown channel' } }), '{"error":{"code":102,"message":"unknown channel"}}');
    assert.equal(
      json(api.BatchResponse, { replies: [{ publish: {} }, { error: { code: 107, message: 'bad request' } }] }),
      '{"replies":[{"publish":{}},{"error":{"code":107,"message":"bad request"}}]}',
    );
  });

  test('always-present result fields of §7.3', () => {
    assert.equal(json(api.PresenceResult, {}), '{"presence":{}}');
    assert.equal(json(api.PresenceStatsResult, {}), '{"num_clients":0,"num_users":0}');
    assert.equal(json(api.HistoryResult, {}), '{"publications":[],"epoch":"","offset":0}');
    assert.equal(json(api.ChannelsResult, {}), '{"channels":{}}');
    assert.equal(
      json(api.InfoResult, { nodes: [{ uptime: 0 }] }),
      '{"nodes":[{"uid":"","name":"","version":"","num_clients":0,"num_users":0,"num_channels":0,"num_subs":0}]}',
    );
    assert.equal(
      json(api.InfoResult, { nodes: [{ uid: 'u', metrics: { interval: 60, items: { 'a.b': 1.5 } }, process: { cpu: 0.25, rss: 123 } }] }),
      '{"nodes":[{"uid":"u","name":"","version":"","num_clients":0,"num_users":0,"num_channels":0,"metrics":{"interval":60,"items":{"a.b":1.5}},"process":{"cpu":0.25,"rss":123},"num_subs":0}]}',
    );
  });

  test('publish request: raw data, base64 in b64data, tags, idempotency key', () => {
    const req = parse(
      api.PublishRequest,
      '{"channel":"news","data":{"text":"hi"},"b64data":"AQID","skip_history":true,"tags":{"k":"v"},"idempotency_key":"x","version":3}',
    );
    assert.equal(text(req.data), '{"text":"hi"}');
    assert.equal(req.b64data, 'AQID');
    assert.deepEqual({ ...req, data: undefined, tags: { ...req.tags } }, {
      channel: 'news',
      data: undefined,
      b64data: 'AQID',
      skipHistory: true,
      tags: { k: 'v' },
      idempotencyKey: 'x',
      version: 3,
    });
  });

  test('batch request with parallel flag', () => {
    const b = parse(api.BatchRequest, '{"commands":[{"publish":{"channel":"a","data":1}},{"presence":{"channel":"b"}}],"parallel":true}');
    assert.equal(b.parallel, true);
    assert.equal(b.commands?.length, 2);
    assert.equal(text(b.commands?.[0]?.publish?.data), '1');
    assert.deepEqual(b.commands?.[1], { presence: { channel: 'b' } });
  });

  test('disconnect with nested Disconnect and subscribe with overrides', () => {
    const d = parse(api.DisconnectRequest, '{"user":"u","disconnect":{"code":4000,"reason":"bye"},"whitelist":["c1"]}');
    assert.deepEqual(d, { user: 'u', disconnect: { code: 4000, reason: 'bye' }, whitelist: ['c1'] });
    const s = parse(api.SubscribeRequest, '{"channel":"c","user":"u","override":{"presence":{"value":true}},"recover_since":{"offset":3,"epoch":"e"}}');
    assert.deepEqual(s, { channel: 'c', user: 'u', override: { presence: { value: true } }, recoverSince: { offset: 3, epoch: 'e' } });
  });
});

describe('JSON round trip on random messages', () => {
  const root = oracleRoot();
  const cases: Array<[string, MessageType<Record<string, unknown>>]> = [
    ['centrifugal.centrifuge.protocol.Command', client.Command as MessageType<Record<string, unknown>>],
    ['centrifugal.centrifuge.protocol.Reply', client.Reply as MessageType<Record<string, unknown>>],
    ['centrifugal.centrifugo.api.Command', api.Command as MessageType<Record<string, unknown>>],
    ['centrifugal.centrifugo.api.Reply', api.Reply as MessageType<Record<string, unknown>>],
  ];
  for (const [name, type] of cases) {
    test(`${name}: JSON keeps every non-zero value (checked through the binary form)`, () => {
      fc.assert(
        fc.property(messageArb(root.lookupType(name), { jsonBytes: true, maxDepth: 3 }), (m) => {
          const j = encodeJson(type, m);
          JSON.parse(dec.decode(j)); // valid JSON
          assert.ok(!j.includes(0x0a), 'no raw newline');
          const back = decodeJson(type, j);
          assert.deepEqual(Buffer.from(encodeBinary(type, back)), Buffer.from(encodeBinary(type, m)));
          assert.deepEqual(Buffer.from(encodeJson(type, decodeBinary(type, encodeBinary(type, m)))), Buffer.from(j));
        }),
        { numRuns: 300 },
      );
    });
  }
});
