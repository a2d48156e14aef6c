// StreamDecoder: a stream split at any position — including byte by byte — yields exactly the
// messages of the whole stream; limits and torn endings are typed errors.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { StreamDecoder } from '../src/stream.ts';
import type { StreamResult } from '../src/stream.ts';
import { Reply, Command } from '../src/gen/client.ts';
import { encodeReply, encodeCommand } from '../src/frames.ts';
import type { Format } from '../src/wire/message.ts';

const enc = new TextEncoder();

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

const replies: Reply[] = [
  { id: 1, connect: { client: 'c1', version: '1', ping: 25, pong: true, subs: { s: { recoverable: true, offset: 3 } } } },
  { push: { channel: 'news', pub: { data: enc.encode('{"text":"héllo"}'), offset: 200, tags: { k: 'v' } } } },
  {},
  { push: { channel: 'news', pub: { data: enc.encode(`"${'x'.repeat(300)}"`), offset: 201 } } },
  { id: 2, error: { code: 100, message: 'internal server error', temporary: true } },
];

function streamOf(format: Format): Uint8Array {
  const sep = format === 'json' ? [enc.encode('\n')] : [];
  return concat(replies.flatMap((r) => [encodeReply(r, format), ...sep]));
}

function collect(d: StreamDecoder<Reply>, chunks: Uint8Array[]): Reply[] {
  const out: Reply[] = [];
  const take = (r: StreamResult<Reply>): void => {
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    out.push(...r.messages);
  };
  for (const c of chunks) take(d.push(c));
  take(d.end());
  return out;
}

for (const format of ['json', 'protobuf'] as const) {
  describe(`StreamDecoder (${format})`, () => {
    const whole = streamOf(format);
    const expected = collect(new StreamDecoder(Reply, format, { maxMessageBytes: 4096 }), [whole]);

    test('decodes every message of the whole stream', () => {
      assert.equal(expected.length, replies.length);
      assert.equal(expected[1]?.push?.pub?.offset, 200);
      assert.deepEqual(expected[2], {});
    });

    test('byte-by-byte feeding gives identical results', () => {
      const chunks = Array.from(whole, (b) => new Uint8Array([b]));
      assert.deepEqual(collect(new StreamDecoder(Reply, format, { maxMessageBytes: 4096 }), chunks), expected);
    });

    test('a split at every position gives identical results', () => {
      for (let i = 0; i <= whole.length; i++) {
        const got = collect(new StreamDecoder(Reply, format, { maxMessageBytes: 4096 }), [whole.subarray(0, i), whole.subarray(i)]);
        assert.deepEqual(got, expected, `split at ${i}`);
      }
    });

    test('three-way splits at many positions give identical results', () => {
      for (let i = 0; i < whole.length; i += 7) {
        for (let j = i; j < whole.length; j += 13) {
          const chunks = [whole.subarray(0, i), whole.subarray(i, j), whole.subarray(j)];
          assert.deepEqual(collect(new StreamDecoder(Reply, format, { maxMessageBytes: 4096 }), chunks), expected);
        }
      }
    });

    test('a message larger than the limit is an error, and the decoder stays failed', () => {
      const d = new StreamDecoder(Reply, format, { maxMessageBytes: 100 });
      const r = d.push(whole);
      assert.ok(!r.ok);
      assert.equal(r.error.kind, 'frame_too_large');
      const again = d.push(new Uint8Array([0]));
      assert.ok(!again.ok);
      assert.equal(d.buffered, 0, 'memory released');
    });

    test('an oversized message is refused before it is fully buffered', () => {
      const d = new StreamDecoder(Reply, format, { maxMessageBytes: 100 });
      const big = encodeReply({ push: { pub: { data: enc.encode(`"${'y'.repeat(1000)}"`) } } }, format);
      const r = d.push(big.subarray(0, 150));
      assert.ok(!r.ok, 'fails as soon as the limit is exceeded');
    });

    test('end() inside a message is an error for protobuf; JSON takes a last line without newline', () => {
      const d = new StreamDecoder(Command, format, { maxMessageBytes: 1000 });
      const cmd = encodeCommand({ id: 5, rpc: { method: 'm' } }, format);
      const first = d.push(cmd.subarray(0, cmd.length - 1));
      assert.ok(first.ok && first.messages.length === 0);
      const torn = d.end();
      if (format === 'protobuf') assert.ok(!torn.ok && torn.error.kind === 'malformed');
      else assert.ok(!torn.ok, 'a torn JSON object is malformed too');
      const d2 = new StreamDecoder(Command, format, { maxMessageBytes: 1000 });
      assert.ok(d2.push(cmd).ok);
      const fin = d2.end();
      assert.ok(fin.ok);
      if (format === 'json') assert.deepEqual(fin.messages, [{ id: 5, rpc: { method: 'm' } }]);
    });
  });
}

test('JSON streams skip blank keep-alive lines and accept \\r\\n', () => {
  const d = new StreamDecoder(Reply, 'json', { maxMessageBytes: 100 });
  const r = d.push(enc.encode('\n\r\n{"id":1}\r\n\n  \n{}\n'));
  assert.ok(r.ok);
  assert.deepEqual(r.messages, [{ id: 1 }, {}]);
  const bad = d.push(enc.encode('{"id":x}\n'));
  assert.ok(!bad.ok && bad.error.kind === 'malformed');
});
