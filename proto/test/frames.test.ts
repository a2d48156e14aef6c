// Frame codecs: splitting, limits, typed errors, reply/command encoding and frame joining.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeCommands,
  decodeReplies,
  encodeCommand,
  encodeCommands,
  encodeReplies,
  encodeReply,
  FrameBuilder,
  joinFrame,
  pingFrame,
} from '../src/frames.ts';
import type { FrameLimits } from '../src/frames.ts';
import type { Format } from '../src/wire/message.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const limits: FrameLimits = { maxFrameBytes: 65536 };
const formats: Format[] = ['json', 'protobuf'];

function commandsOf(frame: Uint8Array | string, format: Format = 'json', lim: FrameLimits = limits) {
  const r = decodeCommands(typeof frame === 'string' ? enc.encode(frame) : frame, format, lim);
  return r;
}

describe('decodeCommands (JSON)', () => {
  test('newline-separated commands; the last line may lack a newline', () => {
    const r = commandsOf('{"id":1,"connect":{"token":"t","name":"js"}}\n{"id":2,"subscribe":{"channel":"news","flag":1}}');
    assert.ok(r.ok);
    assert.deepEqual(r.commands, [
      { id: 1, connect: { token: 't', name: 'js' } },
      { id: 2, subscribe: { channel: 'news', flag: 1 } },
    ]);
  });

  test('a single trailing newline and \\r\\n line ends are tolerated', () => {
    for (const f of ['{"id":1}\n', '{"id":1}\r\n', '{"id":1}\r\n{}\r\n']) {
      const r = commandsOf(f);
      assert.ok(r.ok, f);
      assert.equal(r.commands[0]?.id, 1);
    }
  });

  test('pong is an empty command', () => {
    const r = commandsOf('{}');
    assert.ok(r.ok);
    assert.deepEqual(r.commands, [{}]);
  });

  test('empty frames, blank lines and junk are typed errors', () => {
    const cases: Array<[string, string]> = [
      ['', 'empty_frame'],
      ['\n', 'malformed'],
      ['{}\n\n{}', 'malformed'],
      ['{}\n\n', 'malformed'],
      ['{}\n  ', 'malformed'],
      ['{"id":1}{"id":2}', 'malformed'],
      ['hello', 'malformed'],
      ['{"id":1,"connect":{"token":5}}', 'malformed'],
    ];
    for (const [frame, kind] of cases) {
      const r = commandsOf(frame);
      assert.ok(!r.ok, JSON.stringify(frame));
      assert.equal(r.error.kind, kind, JSON.stringify(frame));
      assert.equal(typeof r.error.message, 'string');
    }
  });

  test('the frame size limit is checked before any decoding', () => {
    const junk = new Uint8Array(100).fill(0xff); // would be malformed if decoded
    const r = commandsOf(junk, 'json', { maxFrameBytes: 99 });
    assert.ok(!r.ok);
    assert.equal(r.error.kind, 'frame_too_large');
    assert.ok(commandsOf('{}', 'json', { maxFrameBytes: 2 }).ok, 'a frame exactly at the limit passes');
  });

  test('message count limit', () => {
    const frame = Array.from({ length: 5 }, () => '{}').join('\n');
    assert.ok(commandsOf(frame, 'json', { maxFrameBytes: 1000, maxMessages: 5 }).ok);
    const r = commandsOf(frame, 'json', { maxFrameBytes: 1000, maxMessages: 4 });
    assert.ok(!r.ok && r.error.kind === 'too_many_messages');
  });

  test('accepts an ArrayBuffer (uWebSockets.js hands those out)', () => {
    const r = decodeCommands(enc.encode('{"id":9}').buffer, 'json', limits);
    assert.ok(r.ok && r.commands[0]?.id === 9);
  });

  test('decoded bytes do not alias a Node Buffer frame either (Buffer#slice is a view)', () => {
    for (const format of formats) {
      const frame = Buffer.from(encodeCommand({ id: 1, publish: { channel: 'c', data: enc.encode('{"a":1}') } }, format));
      const r = decodeCommands(frame, format, limits);
      assert.ok(r.ok);
      const data = r.commands[0]?.publish?.data;
      assert.equal(data?.constructor, Uint8Array);
      frame.fill(0x20);
      assert.equal(dec.decode(data), '{"a":1}');
    }
  });

  test('decoded bytes do not alias the frame', () => {
    const frame = enc.encode('{"id":1,"publish":{"channel":"c","data":{"a":1}}}');
    const r = commandsOf(frame);
    assert.ok(r.ok);
    frame.fill(0x20);
    assert.equal(dec.decode(r.commands[0]?.publish?.data), '{"a":1}');
  });
});

describe('decodeCommands (protobuf)', () => {
  test('varint-delimited commands, many per frame; 0x00 is a pong', () => {
    const frame = encodeCommands([{ id: 1, connect: { token: 't' } }, { id: 2, subscribe: { channel: 'x', flag: 1 } }, {}], 'protobuf');
    const r = commandsOf(frame, 'protobuf');
    assert.ok(r.ok);
    assert.deepEqual(r.commands, [{ id: 1, connect: { token: 't' } }, { id: 2, subscribe: { channel: 'x', flag: 1 } }, {}]);
    const pong = commandsOf(new Uint8Array([0]), 'protobuf');
    assert.ok(pong.ok);
    assert.deepEqual(pong.commands, [{}]);
  });

  test('truncated length, length past the frame and empty frames are typed errors', () => {
    const cases: Array<[number[], string]> = [
      [[], 'empty_frame'],
      [[0x80], 'malformed'],
      [[0x05, 0x08, 0x01], 'malformed'],
      [[0x02, 0x08, 0x01, 0x01], 'malformed'], // second message: length 1 but no body
      [[0x01, 0x08], 'malformed'], // id field without its varint
      [[0x02, 0x0b, 0x00], 'malformed'], // wire type 3 (group)
    ];
    for (const [bytes, kind] of cases) {
      const r = commandsOf(new Uint8Array(bytes), 'protobuf');
      assert.ok(!r.ok, JSON.stringify(bytes));
      assert.equal(r.error.kind, kind, JSON.stringify(bytes));
    }
  });

  test('size limit before decoding and message count limit', () => {
    const r = commandsOf(new Uint8Array(10).fill(0x80), 'protobuf', { maxFrameBytes: 9 });
    assert.ok(!r.ok && r.error.kind === 'frame_too_large');
    const many = new Uint8Array(10); // ten pongs
    assert.ok(commandsOf(many, 'protobuf', { maxFrameBytes: 100, maxMessages: 10 }).ok);
    const t = commandsOf(many, 'protobuf', { maxFrameBytes: 100, maxMessages: 9 });
    assert.ok(!t.ok && t.error.kind === 'too_many_messages');
  });
});

describe('encoding replies and frames', () => {
  test('a single reply is itself a frame in both formats', () => {
    for (const format of formats) {
      const bytes = encodeReply({ id: 3, publish: {} }, format);
      const r = decodeReplies(bytes, format);
      assert.ok(r.ok);
      assert.deepEqual(r.replies, [{ id: 3, publish: {} }]);
    }
    assert.equal(dec.decode(encodeReply({ id: 3, publish: {} }, 'json')), '{"id":3,"publish":{}}');
    assert.deepEqual([...encodeReply({ id: 3, publish: {} }, 'protobuf')], [4, 0x08, 3, 0x42, 0]);
  });

  test('joinFrame / FrameBuilder / encodeReplies agree: JSON newline-joined without trailing newline', () => {
    const replies = [{ id: 1, connect: { client: 'c', ping: 25, pong: true } }, { push: { channel: 'a', pub: { data: enc.encode('1'), offset: 2 } } }, {}];
    for (const format of formats) {
      const parts = replies.map((r) => encodeReply(r, format));
      const joined = joinFrame(parts, format);
      const b = new FrameBuilder(format, 4);
      for (const p of parts) b.add(p);
      assert.equal(b.count, 3);
      assert.equal(b.byteLength, joined.length);
      assert.deepEqual(b.finish(), joined);
      assert.equal(b.count, 0);
      assert.deepEqual(encodeReplies(replies, format), joined);
      const back = decodeReplies(joined, format);
      assert.ok(back.ok);
      assert.equal(back.replies.length, 3);
      assert.deepEqual(back.replies[2], {});
    }
    const text = dec.decode(encodeReplies(replies, 'json'));
    assert.equal(text.split('\n').length, 3);
    assert.ok(!text.endsWith('\n'));
  });

  test('pingFrame is {} / 0x00 and decodes as an empty reply', () => {
    assert.equal(dec.decode(pingFrame('json')), '{}');
    assert.deepEqual([...pingFrame('protobuf')], [0]);
    for (const format of formats) {
      const r = decodeReplies(pingFrame(format), format);
      assert.ok(r.ok);
      assert.deepEqual(r.replies, [{}]);
    }
  });

  test('encodeCommand is what decodeCommands reads', () => {
    const cmd = { id: 4, history: { channel: 'h', limit: 10, since: { offset: 5, epoch: 'e' }, reverse: true } };
    for (const format of formats) {
      const r = decodeCommands(encodeCommand(cmd, format), format, limits);
      assert.ok(r.ok);
      assert.deepEqual(r.commands, [cmd]);
    }
  });
});
