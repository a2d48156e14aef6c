// The push scanner against frames built by @rotor/proto's own encoder, both formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeReplies } from '@rotor/proto';
import type { client } from '@rotor/proto';
import { scanJsonFrame, scanProtobufFrame, type ScanHandlers } from './push-scan.ts';

const payload = (n: number) => Buffer.from(`"payload-${n}-${'x'.repeat(n)}"`, 'latin1');

function pub(n: number, withInfo: boolean): client.Reply {
  return {
    push: {
      channel: 'bench.0',
      pub: {
        data: payload(n),
        offset: n,
        // conn_info is raw JSON that itself holds a "data" key: the scanner must take the publication's.
        ...(withInfo ? { info: { user: 'u', client: 'c', connInfo: Buffer.from('{"data":"not-this"}') } } : {}),
      },
    },
  };
}

const REPLIES: client.Reply[] = [
  { id: 1, connect: { client: 'abc', version: '0.1.0', ping: 25, pong: true } },
  pub(1, false),
  {},
  pub(2, true),
  { push: { channel: 'bench.0', join: { info: { user: 'u', client: 'c' } } } },
  { id: 7, error: { code: 103, message: 'permission denied' } },
  pub(3, false),
];

function collect() {
  const events: string[] = [];
  const h: ScanHandlers = {
    onData: (buf, s, e) => events.push(`data:${Buffer.from(buf.subarray(s, e)).toString('latin1')}`),
    onPing: () => events.push('ping'),
    onOther: () => events.push('other'),
    onBroken: (r) => events.push(`broken:${r}`),
  };
  return { events, h };
}

const EXPECTED = ['other', `data:${payload(1).toString()}`, 'ping', `data:${payload(2).toString()}`, 'other', 'other', `data:${payload(3).toString()}`];

for (const format of ['json', 'protobuf'] as const) {
  test(`${format}: publications, pings and other replies are told apart in one frame`, () => {
    const frame = Buffer.from(encodeReplies(REPLIES, format));
    const { events, h } = collect();
    (format === 'json' ? scanJsonFrame : scanProtobufFrame)(frame, 0, frame.length, h);
    assert.deepEqual(events, EXPECTED);
  });

  test(`${format}: a frame inside a larger buffer is scanned only within its bounds`, () => {
    const frame = Buffer.from(encodeReplies([pub(4, false)], format));
    const buf = Buffer.concat([Buffer.from('JUNK'), frame, Buffer.from('JUNK')]);
    const { events, h } = collect();
    (format === 'json' ? scanJsonFrame : scanProtobufFrame)(buf, 4, 4 + frame.length, h);
    assert.deepEqual(events, [`data:${payload(4).toString()}`]);
  });
}

test('protobuf: "other" messages come with their length prefix, so they decode on their own', async () => {
  const { decodeReplies } = await import('@rotor/proto');
  const frame = Buffer.from(encodeReplies([{ id: 9, subscribe: {} }], 'protobuf'));
  let got: client.Reply[] = [];
  scanProtobufFrame(frame, 0, frame.length, {
    onData: () => assert.fail('no data'),
    onPing: () => assert.fail('no ping'),
    onOther: (buf, s, e) => {
      const r = decodeReplies(buf.subarray(s, e), 'protobuf');
      assert.ok(r.ok);
      got = r.replies;
    },
    onBroken: (r) => assert.fail(r),
  });
  assert.equal(got[0]?.id, 9);
});

test('protobuf: truncated framing is reported, not misread', () => {
  const frame = Buffer.from(encodeReplies([pub(5, false)], 'protobuf'));
  for (const cut of [1, 3, frame.length - 1]) {
    const { events, h } = collect();
    scanProtobufFrame(frame, 0, cut, h);
    assert.deepEqual(events, ['broken:truncated protobuf frame'], `cut ${cut}`);
  }
  const { events, h } = collect();
  const bad = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  scanProtobufFrame(bad, 0, bad.length, h);
  assert.deepEqual(events, ['broken:truncated protobuf frame']);
});

test('json: a publication whose data is not our payload is passed as an empty span (counted as malformed)', () => {
  const frame = Buffer.from(encodeReplies([{ push: { channel: 'c', pub: { data: Buffer.from('{"a":1}') } } }], 'json'));
  const spans: number[] = [];
  scanJsonFrame(frame, 0, frame.length, { onData: (_b, s, e) => spans.push(e - s), onPing: () => undefined, onOther: () => undefined, onBroken: () => undefined });
  assert.deepEqual(spans, [0]);
});

test('json: pushes laid out differently from @rotor/proto (field order, escaped channel) take the general path', () => {
  const lines = [
    '{"push":{"pub":{"offset":3,"data":"p-1"},"channel":"bench.0"}}',
    '{"push":{"channel":"a\\"b","pub":{"data":"p-2"}}}',
    '{"push":{"channel":"c","pub":{"offset":1}}}',
    '{"push":{"channel":"c","join":{"info":{"user":"u","client":"x"}}}}',
  ];
  const frame = Buffer.from(lines.join('\n'), 'latin1');
  const { events, h } = collect();
  scanJsonFrame(frame, 0, frame.length, h);
  assert.deepEqual(events, ['data:"p-1"', 'data:"p-2"', 'data:', 'other']);
});
