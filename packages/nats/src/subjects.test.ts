import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RotorError } from '@rotor/core';
import { channelToken, MAX_SUBJECT_LENGTH, Subjects, tokenToChannel } from './subjects.ts';

const TOKEN_RE = /^[A-Za-z0-9_=-]+$/;

const adversarial = [
  '',
  '.',
  '..',
  'a.b',
  'a..b',
  '*',
  '>',
  'a.*',
  'a.>',
  'news:sport',
  '$private',
  'user#42,43',
  ' ',
  'with space',
  'tab\there',
  'new\nline',
  '\r\n',
  '\u0000',
  '=',
  '=3D',
  '=2E',
  'a=2Eb',
  'café',
  'cafe\u0301',
  '频道',
  '🚀',
  '\ud800',
  '\udc00',
  '\ufffd',
  '\ud800\udc00',
  'a\ud83d',
  'x'.repeat(255),
  'я'.repeat(127),
  '🚀'.repeat(63),
  '.'.repeat(255),
];

test('tokens use only safe subject characters and never contain separators or wildcards', () => {
  for (const ch of adversarial) {
    const t = channelToken(ch);
    assert.match(t, TOKEN_RE, JSON.stringify(ch));
  }
});

test('adversarial names map to distinct tokens and round-trip', () => {
  const seen = new Map<string, string>();
  for (const ch of adversarial) {
    const t = channelToken(ch);
    const prev = seen.get(t);
    assert.equal(prev, undefined, `${JSON.stringify(ch)} collides with ${JSON.stringify(prev)}`);
    seen.set(t, ch);
    assert.equal(tokenToChannel(t), ch);
  }
});

test('plain names stay readable', () => {
  assert.equal(channelToken('chat_room-1'), 'chat_room-1');
  assert.equal(channelToken('news:sport'), 'news=3Asport');
  assert.equal(channelToken('a.b'), 'a=2Eb');
  assert.equal(channelToken('='), '=3D');
  assert.equal(channelToken(''), '=');
});

test('property: round trip over arbitrary strings (full unicode and lone surrogates)', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
      const t = channelToken(s);
      return TOKEN_RE.test(t) && tokenToChannel(t) === s;
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('.', '*', '>', ' ', '=', 'a', 'Z', '9', ':', '\ud800', '\udc00', 'é'), maxLength: 40 }), (s) => {
      const t = channelToken(s);
      return TOKEN_RE.test(t) && tokenToChannel(t) === s;
    }),
    { numRuns: 3000 },
  );
});

test('property: distinct names give distinct tokens', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }), (a, b) => {
      return a === b || channelToken(a) !== channelToken(b);
    }),
    { numRuns: 5000 },
  );
});

test('property: arbitrary tokens either are rejected or are the canonical token of their channel', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('=', 'A', 'F', '0', '8', 'C', '3', 'E', 'D', 'a', '-', '.'), maxLength: 24 }), (t) => {
      const ch = tokenToChannel(t);
      return ch === null || channelToken(ch) === t;
    }),
    { numRuns: 5000 },
  );
  // Non-canonical spellings are refused.
  assert.equal(tokenToChannel('=61'), null, 'escaped plain byte');
  assert.equal(tokenToChannel('=3d'), null, 'lower-case hex');
  assert.equal(tokenToChannel('=C0=AE'), null, 'overlong');
  assert.equal(tokenToChannel('=ED=A0=BD=ED=BA=80'), null, 'surrogate pair as two lone surrogates');
  assert.equal(tokenToChannel('a.b'), null);
  assert.equal(tokenToChannel('=2'), null);
  assert.equal(tokenToChannel(''), null);
});

test('subjects: layout, channelOf inverse, 255-byte names fit, over-long names are a typed error', () => {
  const s = new Subjects();
  assert.equal(s.channel('news'), 'rotor.ch.news');
  assert.equal(s.control, 'rotor.ctl');
  assert.equal(s.heartbeat, 'rotor.hb');
  assert.equal(s.shard(3), 'rotor.shard.3');
  assert.equal(s.channelOf(s.channel('a.b.*')), 'a.b.*');
  assert.equal(s.channelOf('rotor.ctl'), null);
  // The default channel.max_length is 255 bytes: the worst case (every byte escaped) still fits.
  const worst = '.'.repeat(255);
  assert.ok(s.channel(worst).length <= MAX_SUBJECT_LENGTH);
  assert.ok(s.storage(7, 'c100_86400', worst).length <= MAX_SUBJECT_LENGTH);
  const tooLong = '.'.repeat(700);
  assert.throws(() => s.channel(tooLong), (err: unknown) => err instanceof RotorError && err.code === 107);
  assert.throws(() => new Subjects('bad prefix'));
  assert.throws(() => new Subjects('a.*'));
  assert.equal(new Subjects('app1.rotor').channel('x'), 'app1.rotor.ch.x');
});
