// Push builders: byte-identical to the generic Reply encoder, payload spliced untouched, and the
// per-channel batcher coalesces one turn's pushes into one frame per format.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ChannelBatcher,
  disconnectPush,
  encodePush,
  joinPush,
  leavePush,
  messagePush,
  prepareChannel,
  publicationPush,
  subscribePush,
  unsubscribePush,
} from '../src/push.ts';
import { decodeReplies, encodeReply } from '../src/frames.ts';
import type { Publication } from '../src/gen/client.ts';
import type { Format } from '../src/wire/message.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const formats: Format[] = ['json', 'protobuf'];

describe('publication/join/leave builders', () => {
  test('JSON shape with the payload spliced verbatim (newlines dropped)', () => {
    const data = enc.encode('{"text":\n"hi", "big": 12345678901234567890}');
    const out = dec.decode(publicationPush('news', { data, offset: 8 }, 'json'));
    assert.equal(out, '{"push":{"channel":"news","pub":{"data":{"text":"hi", "big": 12345678901234567890},"offset":8}}}');
    const j = dec.decode(joinPush('news', { user: 'u', client: 'c' }, 'json'));
    assert.equal(j, '{"push":{"channel":"news","join":{"info":{"user":"u","client":"c"}}}}');
    const l = dec.decode(leavePush('news', { user: '', client: 'c' }, 'json'));
    assert.equal(l, '{"push":{"channel":"news","leave":{"info":{"user":"","client":"c"}}}}');
  });

  test('the channel is escaped once in the prepared prefix', () => {
    const ch = prepareChannel('a"b\\é𝄞\n');
    assert.equal(dec.decode(ch.jsonPrefix), '{"push":{"channel":"a\\"b\\\\é𝄞\\n",');
    const out = publicationPush(ch, { data: enc.encode('1') }, 'json');
    assert.equal(JSON.parse(dec.decode(out)).push.channel, 'a"b\\é𝄞\n');
  });

  const pubArb: fc.Arbitrary<Publication> = fc.record(
    {
      data: fc.json({ maxDepth: 2 }).map((s) => enc.encode(s)),
      offset: fc.maxSafeNat(),
      time: fc.maxSafeInteger(),
      delta: fc.boolean(),
      tags: fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
      info: fc.record({
        user: fc.string({ maxLength: 5 }),
        client: fc.string({ maxLength: 8 }),
        connInfo: fc.json({ maxDepth: 1 }).map((s) => enc.encode(s)),
      }),
    },
    { requiredKeys: ['data'] },
  );
  const channelArb = fc.string({ unit: 'binary', maxLength: 300 });

  test('byte-identical to encodeReply({push}) in both formats (random publications)', () => {
    fc.assert(
      fc.property(channelArb, pubArb, (channel, pub) => {
        const prepared = prepareChannel(channel);
        for (const format of formats) {
          const generic = encodeReply({ push: { channel, pub } }, format);
          assert.deepEqual(Buffer.from(publicationPush(prepared, pub, format)), Buffer.from(generic));
          assert.deepEqual(Buffer.from(publicationPush(channel, pub, format)), Buffer.from(generic));
          if (pub.info) {
            assert.deepEqual(Buffer.from(joinPush(prepared, pub.info, format)), Buffer.from(encodeReply({ push: { channel, join: { info: pub.info } } }, format)));
            assert.deepEqual(Buffer.from(leavePush(prepared, pub.info, format)), Buffer.from(encodeReply({ push: { channel, leave: { info: pub.info } } }, format)));
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  test('large payloads (multi-byte lengths at every level) decode back', () => {
    for (const n of [100, 127, 128, 200, 16380, 16400, 300000]) {
      const data = enc.encode(`"${'z'.repeat(n)}"`);
      for (const format of formats) {
        const r = decodeReplies(publicationPush('c', { data, offset: 1 }, format), format);
        assert.ok(r.ok);
        assert.equal(r.replies[0]?.push?.pub?.data?.length, n + 2);
        assert.equal(r.replies[0]?.push?.channel, 'c');
      }
    }
  });
});

describe('generic pushes', () => {
  test('unsubscribe, subscribe, message, disconnect', () => {
    assert.equal(
      dec.decode(unsubscribePush('news', { code: 2000, reason: 'server unsubscribe' }, 'json')),
      '{"push":{"channel":"news","unsubscribe":{"code":2000,"reason":"server unsubscribe"}}}',
    );
    assert.equal(
      dec.decode(subscribePush('s', { recoverable: true, epoch: 'e', offset: 3, positioned: true }, 'json')),
      '{"push":{"channel":"s","subscribe":{"recoverable":true,"epoch":"e","offset":3,"positioned":true}}}',
    );
    assert.equal(dec.decode(messagePush({ data: enc.encode('{"m":1}') }, 'json')), '{"push":{"message":{"data":{"m":1}}}}');
    assert.equal(dec.decode(disconnectPush({ code: 3001, reason: 'shutdown' }, 'json')), '{"push":{"disconnect":{"code":3001,"reason":"shutdown"}}}');
    for (const format of formats) {
      const r = decodeReplies(encodePush({ channel: 'x', unsubscribe: { code: 2500, reason: 'insufficient state' } }, format), format);
      assert.ok(r.ok);
      assert.deepEqual(r.replies, [{ push: { channel: 'x', unsubscribe: { code: 2500, reason: 'insufficient state' } } }]);
    }
  });
});

describe('ChannelBatcher', () => {
  function manual(): { run: () => void; schedule: (fn: () => void) => void; pending: number } {
    const queue: Array<() => void> = [];
    return {
      schedule: (fn) => queue.push(fn),
      run: () => {
        while (queue.length) queue.shift()!();
      },
      get pending() {
        return queue.length;
      },
    };
  }

  test('one frame per channel and format per turn, in order', () => {
    const s = manual();
    const frames: Array<{ channel: string; format: Format; frame: Uint8Array; count: number }> = [];
    const b = new ChannelBatcher((channel, format, frame, count) => frames.push({ channel, format, frame, count }), { schedule: s.schedule });
    for (let i = 1; i <= 3; i++) {
      for (const format of formats) b.add('a', format, publicationPush('a', { data: enc.encode(String(i)), offset: i }, format));
    }
    b.add('b', 'json', joinPush('b', { user: 'u', client: 'c' }, 'json'));
    assert.equal(frames.length, 0, 'nothing before the turn ends');
    assert.equal(s.pending, 1, 'one scheduled flush for the whole turn');
    s.run();
    // Order across channels and formats is not specified; within one channel and format it is.
    assert.deepEqual(frames.map((f) => `${f.channel}/${f.format}/${f.count}`).sort(), ['a/json/3', 'a/protobuf/3', 'b/json/1']);
    for (const f of frames.filter((x) => x.channel === 'a')) {
      const r = decodeReplies(f.frame, f.format);
      assert.ok(r.ok);
      assert.deepEqual(r.replies.map((x) => x.push?.pub?.offset), [1, 2, 3]);
    }
    assert.equal(dec.decode(frames.find((f) => f.channel === 'a' && f.format === 'json')!.frame).split('\n').length, 3);
  });

  test('size limits flush early without reordering', () => {
    const s = manual();
    const frames: Array<{ frame: Uint8Array; count: number }> = [];
    const b = new ChannelBatcher((_c, _f, frame, count) => frames.push({ frame, count }), { schedule: s.schedule, maxMessages: 2, maxBytes: 1 << 20 });
    for (let i = 1; i <= 5; i++) b.add('a', 'json', publicationPush('a', { data: enc.encode(String(i)), offset: i }, 'json'));
    assert.deepEqual(frames.map((f) => f.count), [2, 2]);
    s.run();
    assert.deepEqual(frames.map((f) => f.count), [2, 2, 1]);
    const offsets = frames.flatMap((f) => {
      const r = decodeReplies(f.frame, 'json');
      assert.ok(r.ok);
      return r.replies.map((x) => x.push?.pub?.offset);
    });
    assert.deepEqual(offsets, [1, 2, 3, 4, 5]);

    const byBytes: number[] = [];
    const b2 = new ChannelBatcher((_c, _f, frame) => byBytes.push(frame.length), { schedule: s.schedule, maxBytes: 200 });
    const msg = publicationPush('a', { data: enc.encode(`"${'q'.repeat(80)}"`) }, 'json');
    for (let i = 0; i < 5; i++) b2.add('a', 'json', msg);
    s.run();
    assert.ok(byBytes.every((n) => n <= 200), `frames within the byte limit: ${byBytes.join(',')}`);
    assert.equal(byBytes.reduce((a, n) => a + n, 0), msg.length * 5 + (5 - byBytes.length));
  });

  test('a push added from inside the flush callback lands in a later frame', () => {
    const s = manual();
    const seen: number[] = [];
    let reentered = false;
    const b: ChannelBatcher = new ChannelBatcher(
      (_c, _f, frame) => {
        const r = decodeReplies(frame, 'json');
        assert.ok(r.ok);
        seen.push(...r.replies.map((x) => x.push?.pub?.offset ?? 0));
        if (!reentered) {
          reentered = true;
          b.add('a', 'json', publicationPush('a', { data: enc.encode('0'), offset: 99 }, 'json'));
        }
      },
      { schedule: s.schedule },
    );
    b.add('a', 'json', publicationPush('a', { data: enc.encode('0'), offset: 1 }, 'json'));
    s.run();
    assert.deepEqual(seen, [1, 99]);
  });

  test('default scheduling flushes in a microtask', async () => {
    const frames: number[] = [];
    const b = new ChannelBatcher((_c, _f, _frame, count) => frames.push(count));
    b.add('a', 'protobuf', publicationPush('a', { data: enc.encode('1') }, 'protobuf'));
    b.add('a', 'protobuf', publicationPush('a', { data: enc.encode('2') }, 'protobuf'));
    assert.deepEqual(frames, []);
    await Promise.resolve();
    assert.deepEqual(frames, [2]);
  });
});
