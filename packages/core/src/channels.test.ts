import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelRules, compileGoRegex } from './channels.ts';
import { defaultConfig } from './config/load.ts';
import type { ChannelConfig, NamespaceOptions } from './config/types.ts';

// Centrifugo's namespace defaults: every option off.
const defaults = defaultConfig();
import { Errors } from './codes.ts';

function ns(overrides: Partial<NamespaceOptions> = {}): NamespaceOptions {
  return { ...defaults.channel.withoutNamespace, ...overrides };
}

const HOUR = 3_600_000;

const config: ChannelConfig = {
  proxy: defaults.channel.proxy,
  withoutNamespace: ns({ allowUserLimitedChannels: true }),
  namespaces: [
    { ...ns({ historySize: 10, historyTtlMs: 60_000 }), name: 'chat' },
    { ...ns({ historySize: 10, historyTtlMs: 60_000, historyMetaTtlMs: HOUR }), name: 'short-meta' },
    { ...ns({ historySize: 10 }), name: 'no-ttl' },
    { ...ns({ channelRegex: '^[a-z0-9]+$' }), name: 'strict' },
    { ...ns({ channelRegex: '^\\p{L}+$' }), name: 'letters' },
    { ...ns({ allowUserLimitedChannels: true }), name: 'personal' },
    { ...ns(), name: 'a.b' },
  ],
  maxLength: 255,
  historyMetaTtlMs: 720 * HOUR,
  namespaceBoundary: ':',
  userBoundary: '#',
  userSeparator: ',',
  privatePrefix: '$',
};

describe('ChannelRules.resolve', () => {
  const rules = new ChannelRules(config);
  type Row = [channel: string, expect: { ns?: string; error?: number; isPrivate?: boolean; userLimited?: boolean; users?: string[] }];
  const rows: Row[] = [
    ['news', { ns: '' }],
    ['chat:room1', { ns: 'chat' }],
    ['chat:room:with:colons', { ns: 'chat' }],
    ['$chat:secret', { ns: 'chat', isPrivate: true }],
    ['$news', { ns: '', isPrivate: true }],
    ['$$chat:x', { error: 102 }], // only one prefix is stripped: namespace "$chat"
    [':leading', { ns: '' }],
    ['chat', { ns: '' }], // no boundary: without namespace
    ['nope:room', { error: 102 }],
    ['a.b:dots', { ns: 'a.b' }],
    ['', { error: 107 }],
    ['x'.repeat(255), { ns: '' }],
    ['x'.repeat(256), { error: 107 }],
    ['caf\u00e9', { error: 107 }], // non-ASCII without a regex
    ['chat:caf\u00e9', { error: 107 }],
    ['strict:abc123', { ns: 'strict' }],
    ['strict:ABC', { error: 107 }],
    ['strict:a-b', { error: 107 }],
    ['$strict:abc', { ns: 'strict', isPrivate: true }], // regex applies after "ns:", not to the prefix
    ['letters:\u00e9t\u00e9', { ns: 'letters' }], // a regex admits non-ASCII
    ['letters:\u{1F600}', { error: 107 }],
    ['letters:' + '\u00e9'.repeat(124), { error: 107 }], // 132 UTF-16 units but 8 + 248 = 256 bytes
    ['letters:' + '\u00e9'.repeat(123), { ns: 'letters' }], // 254 bytes
    ['user#42', { ns: '', userLimited: true, users: ['42'] }],
    ['personal:dialog#1,2', { ns: 'personal', userLimited: true, users: ['1', '2'] }],
    ['personal:a#b#3,4', { ns: 'personal', userLimited: true, users: ['3', '4'] }], // after the last boundary
    ['personal:open#', { ns: 'personal', userLimited: true, users: [] }],
    ['personal:x#,5,', { ns: 'personal', userLimited: true, users: ['5'] }],
    ['chat:room#1', { ns: 'chat', userLimited: false, users: [] }], // namespace does not allow it
    ['$user#7', { ns: '', isPrivate: true, userLimited: true, users: ['7'] }],
  ];

  for (const [channel, want] of rows) {
    test(`${JSON.stringify(channel.length > 40 ? `${channel.slice(0, 20)}…(${channel.length})` : channel)} → ${want.error ?? `ns ${JSON.stringify(want.ns)}`}`, () => {
      const r = rules.resolve(channel);
      if (want.error !== undefined) {
        assert.equal(r.ok, false);
        if (!r.ok) assert.equal(r.error.code, want.error);
        return;
      }
      assert.ok(r.ok, `expected ${channel} to resolve`);
      assert.equal(r.channel.channel, channel);
      assert.equal(r.channel.namespace.name, want.ns);
      assert.equal(r.channel.isPrivate, want.isPrivate ?? false);
      if (want.userLimited !== undefined) assert.equal(r.channel.userLimited, want.userLimited);
      if (want.users !== undefined) assert.deepEqual([...r.channel.allowedUsers], want.users);
    });
  }
});

describe('ChannelRules', () => {
  test('namespaces are compiled with history facts and effective meta TTL', () => {
    const rules = new ChannelRules(config);
    const chat = rules.namespace('chat');
    assert.ok(chat);
    assert.equal(chat.historyEnabled, true);
    assert.equal(chat.effectiveHistoryMetaTtlMs, 720 * HOUR);
    assert.equal(rules.namespace('short-meta')?.effectiveHistoryMetaTtlMs, HOUR);
    assert.equal(rules.namespace('no-ttl')?.historyEnabled, false);
    assert.equal(rules.namespace('')?.name, '');
    assert.equal(rules.namespace('missing'), undefined);
    assert.ok(rules.namespace('strict')?.channelPattern instanceof RegExp);
    assert.equal(rules.namespace('chat')?.channelPattern, null);
    assert.ok(Object.isFrozen(chat));
  });

  test('a resolved channel carries its namespace history options (shared) or null', () => {
    const rules = new ChannelRules(config);
    const a = rules.resolve('chat:a');
    const b = rules.resolve('chat:b');
    assert.ok(a.ok && b.ok);
    assert.deepEqual(a.channel.history, { size: 10, ttlMs: 60_000, metaTtlMs: 720 * HOUR });
    assert.equal(a.channel.history, b.channel.history, 'one object per namespace');
    const n = rules.resolve('no-ttl:x');
    assert.ok(n.ok);
    assert.equal(n.channel.history, null);
  });

  test('user-limited permission: only listed, non-anonymous users', () => {
    const rules = new ChannelRules(config);
    const r = rules.resolve('personal:dialog#1,2');
    assert.ok(r.ok);
    assert.equal(rules.isUserAllowed(r.channel, '1'), true);
    assert.equal(rules.isUserAllowed(r.channel, '2'), true);
    assert.equal(rules.isUserAllowed(r.channel, '3'), false);
    assert.equal(rules.isUserAllowed(r.channel, ''), false);
    const open = rules.resolve('personal:open#');
    assert.ok(open.ok);
    assert.equal(rules.isUserAllowed(open.channel, ''), false, 'an empty entry grants nobody');
    const notLimited = rules.resolve('chat:room#1');
    assert.ok(notLimited.ok);
    assert.equal(rules.isUserAllowed(notLimited.channel, '1'), false);
  });

  test('personal channel names', () => {
    const rules = new ChannelRules(config);
    assert.equal(rules.personalChannel('42'), '#42');
    assert.equal(rules.personalChannel('42', 'personal'), 'personal:#42');
    const r = rules.resolve(rules.personalChannel('42', 'personal'));
    assert.ok(r.ok && rules.isUserAllowed(r.channel, '42'));
  });

  test('custom boundaries, separator and prefix', () => {
    const rules = new ChannelRules({
      ...config,
      namespaceBoundary: '::',
      userBoundary: '@',
      userSeparator: ';',
      privatePrefix: 'private-',
    });
    const r = rules.resolve('private-personal::room@a;b');
    assert.ok(r.ok);
    assert.equal(r.channel.namespace.name, 'personal');
    assert.equal(r.channel.isPrivate, true);
    assert.deepEqual([...r.channel.allowedUsers], ['a', 'b']);
    assert.equal(rules.resolve('chat:room').ok, true, 'a single ":" is no boundary here');
    assert.equal(rules.personalChannel('u', 'personal'), 'personal::@u');
  });

  test('empty boundary and prefix disable those features', () => {
    const rules = new ChannelRules({ ...config, namespaceBoundary: '', userBoundary: '', privatePrefix: '' });
    const r = rules.resolve('$chat:x#1');
    assert.ok(r.ok);
    assert.equal(r.channel.namespace.name, '');
    assert.equal(r.channel.isPrivate, false);
    assert.equal(r.channel.userLimited, false);
  });

  test('the cache is bounded and answers stay correct after eviction', () => {
    const rules = new ChannelRules(config, { cacheSize: 10 });
    for (let i = 0; i < 1000; i++) assert.equal(rules.resolve(`chat:r${i}`).ok, true);
    const first = rules.resolve('chat:hot');
    for (let i = 0; i < 4; i++) rules.resolve(`chat:fill${i}`);
    assert.equal(rules.resolve('chat:hot'), first, 'a recently used name is served from the cache');
    assert.equal(rules.resolve('nope:x').ok, false);
    assert.equal(rules.resolve('nope:x').ok, false);
  });

  test('Go regex syntax: named groups and escapes Unicode mode rejects', () => {
    assert.ok(compileGoRegex('^(?P<id>[0-9]+)$').test('123'));
    assert.ok(compileGoRegex('^[a-z\\-]+\\-x$').test('ab-x'));
    assert.throws(() => compileGoRegex('(', 'bad'), /namespace "bad"/);
  });

  test('an unknown namespace is 102 and an invalid name 107, as error codes', () => {
    const rules = new ChannelRules(config);
    const unknown = rules.resolve('nope:x');
    const bad = rules.resolve('strict:UPPER');
    assert.ok(!unknown.ok && unknown.error === Errors.unknownChannel);
    assert.ok(!bad.ok && bad.error === Errors.badRequest);
  });
});
