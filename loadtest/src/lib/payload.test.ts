import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIN_PAYLOAD_SIZE, parsePayload, payloadTemplate, stampPayload, type PayloadHeader } from './payload.ts';

const out = (): PayloadHeader => ({ channel: -1, publisher: -1, seq: -1, timeUs: -1 });

test('a stamped payload is a JSON string literal of the requested size and parses back', () => {
  for (const size of [MIN_PAYLOAD_SIZE, 128, 4096]) {
    const p = Buffer.from(payloadTemplate(size));
    stampPayload(p, 0, 0xabcdef, 0xfffe, 4_000_000_000, 123_456_789_012.7);
    assert.equal(p.length, size);
    assert.equal(typeof JSON.parse(p.toString('latin1')), 'string');
    const h = out();
    assert.ok(parsePayload(p, 0, size, size, h));
    assert.deepEqual(h, { channel: 0xabcdef, publisher: 0xfffe, seq: 4_000_000_000, timeUs: 123_456_789_012 });
  }
});

test('a payload inside a larger buffer parses at its offset', () => {
  const p = payloadTemplate(64);
  const frame = Buffer.concat([Buffer.from('42["m",'), p, Buffer.from(']')]);
  stampPayload(frame, 7, 3, 2, 1, 99);
  const h = out();
  assert.ok(parsePayload(frame, 7, 7 + 64, 64, h));
  assert.equal(h.channel, 3);
  assert.equal(h.seq, 1);
});

test('foreign bytes are rejected, not misread', () => {
  const p = Buffer.from(payloadTemplate(64));
  stampPayload(p, 0, 1, 1, 1, 1);
  const h = out();
  assert.equal(parsePayload(p, 0, 63, 64, h), false, 'wrong length');
  const noQuote = Buffer.from(p);
  noQuote[0] = 0x41;
  assert.equal(parsePayload(noQuote, 0, 64, 64, h), false, 'no opening quote');
  const badHex = Buffer.from(p);
  badHex[12] = 0x47; // 'G'
  assert.equal(parsePayload(badHex, 0, 64, 64, h), false, 'non-hex header');
  assert.equal(h.channel, -1, 'output untouched on rejection');
});

test('template sizes outside the range are refused', () => {
  assert.throws(() => payloadTemplate(MIN_PAYLOAD_SIZE - 1), RangeError);
  assert.throws(() => payloadTemplate(1.5), RangeError);
  assert.throws(() => payloadTemplate(2 ** 21), RangeError);
});
