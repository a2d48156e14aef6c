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

/** What a client that JSON.parses the line would make of it: a publication (with our data span's
 *  text, or '' when data is not a string), another reply, or an error. */
function viaJsonParse(line: string): string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'invalid';
  }
  const push = (v as { push?: unknown } | null)?.push;
  const pubObj = typeof push === 'object' && push !== null && !Array.isArray(push) ? (push as { pub?: unknown }).pub : undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof pubObj !== 'object' || pubObj === null || Array.isArray(pubObj)) return 'other';
  const data = (pubObj as { data?: unknown }).data;
  return typeof data === 'string' ? `data:${JSON.stringify(data)}` : 'data:';
}

function viaScanner(line: string): string {
  const buf = Buffer.from(line, 'utf8');
  const out: string[] = [];
  scanJsonFrame(buf, 0, buf.length, {
    onData: (b, s, e) => out.push(`data:${Buffer.from(b.subarray(s, e)).toString('utf8')}`),
    onPing: () => out.push('ping'),
    onOther: (b, s, e) => {
      let ok = true;
      try {
        JSON.parse(Buffer.from(b.subarray(s, e)).toString('utf8'));
      } catch {
        ok = false;
      }
      out.push(ok ? 'other' : 'invalid');
    },
    onBroken: (r) => out.push(`broken:${r}`),
  });
  return out.join('|');
}

test('json: every line is validated in full, agreeing with JSON.parse on mutated pushes', () => {
  const base = Buffer.from(encodeReplies([pub(7, true)], 'json')).toString('latin1');
  assert.equal(viaScanner(base), viaJsonParse(base));
  const alphabet = ['"', '\\', '{', '}', '[', ']', ':', ',', ' ', '0', '-', '.', 'e', 'x', '\u0001', 't', 'n', 'u'];
  let disagreements = 0;
  let checked = 0;
  for (let i = 0; i < base.length; i++) {
    const variants = [base.slice(0, i) + base.slice(i + 1), ...alphabet.map((c) => base.slice(0, i) + c + base.slice(i + 1))];
    for (const v of variants) {
      if (v.includes('\n') || v === '{}') continue;
      checked++;
      const want = viaJsonParse(v);
      const got = viaScanner(v);
      // A publication whose data is not a JSON string is reported with an empty span either way.
      const norm = (x: string) => (x.startsWith('data:') && !x.startsWith('data:"') ? 'data:' : x);
      if (norm(got) !== norm(want)) {
        disagreements++;
        assert.fail(`line ${JSON.stringify(v)}: scanner ${got}, JSON.parse ${want}`);
      }
    }
  }
  assert.ok(checked > 1000);
  assert.equal(disagreements, 0);
});

test('json: numbers, literals, arrays, escapes and nesting are parsed, not skipped', () => {
  const ok = '{"push":{"channel":"c\\u00e9\\n","pub":{"data":"p","offset":-1.5e+3,"tags":{"a":[true,false,null,[],{}]}}},"z":0}';
  assert.equal(viaScanner(ok), 'data:"p"');
  for (const bad of [
    '{"push":{"channel":"c","pub":{"data":"p","offset":01}}}',
    '{"push":{"channel":"c","pub":{"data":"p","offset":1.}}}',
    '{"push":{"channel":"c","pub":{"data":"p","x":tru}}}',
    '{"push":{"channel":"c\\q","pub":{"data":"p"}}}',
    '{"push":{"channel":"c","pub":{"data":"p",}}}',
    '{"push":{"channel":"c","pub":{"data":"p"}}} x',
    '{"push":{"channel":"c","pub":{"data":"p"}}',
  ]) {
    assert.equal(viaScanner(bad), 'invalid', bad);
  }
});

test('protobuf: a publication push with a wrong wire type or broken nested framing is not taken as data', () => {
  const good = Buffer.from(encodeReplies([pub(8, true)], 'protobuf'));
  const seen: string[] = [];
  const h: ScanHandlers = { onData: () => seen.push('data'), onPing: () => seen.push('ping'), onOther: () => seen.push('other'), onBroken: (r) => seen.push(r) };
  scanProtobufFrame(good, 0, good.length, h);
  assert.deepEqual(seen, ['data']);
  // Publication.offset (6) sent as a length-delimited field: [len][0x22 push…] — rebuild by hand.
  const bad = Buffer.from([7, 0x22, 5, 0x22, 3, 0x32, 1, 0x41]);
  seen.length = 0;
  scanProtobufFrame(bad, 0, bad.length, h);
  assert.deepEqual(seen, ['other']);
  // ClientInfo (5) whose inner length runs past its end.
  const bad2 = Buffer.from([9, 0x22, 7, 0x22, 5, 0x2a, 3, 0x0a, 9, 0x41]);
  seen.length = 0;
  scanProtobufFrame(bad2, 0, bad2.length, h);
  assert.deepEqual(seen, ['other']);
});
