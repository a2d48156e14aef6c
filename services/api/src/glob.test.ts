import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GlobSyntaxError, MAX_GLOB_LENGTH, compileGlob } from './glob.ts';

function matches(pattern: string, name: string): boolean {
  return compileGlob(pattern).match(name);
}

test('literal patterns match only the same name', () => {
  assert.equal(matches('news', 'news'), true);
  assert.equal(matches('news', 'news2'), false);
  assert.equal(matches('news', 'new'), false);
  assert.equal(matches('a:b', 'a:b'), true);
});

test('* matches any sequence, including none and namespace boundaries', () => {
  assert.equal(matches('*', ''), true);
  assert.equal(matches('*', 'chat:room#1,2'), true);
  assert.equal(matches('chat:*', 'chat:'), true);
  assert.equal(matches('chat:*', 'chat:room/1'), true);
  assert.equal(matches('chat:*', 'chats:room'), false);
  assert.equal(matches('*:index', 'a:b:index'), true);
  assert.equal(matches('a*b*c', 'aXXbYYc'), true);
  assert.equal(matches('a*b*c', 'aXXcYYb'), false);
  assert.equal(matches('a**b', 'ab'), true);
});

test('? matches exactly one character (a code point)', () => {
  assert.equal(matches('room?', 'room1'), true);
  assert.equal(matches('room?', 'room'), false);
  assert.equal(matches('room?', 'room12'), false);
  assert.equal(matches('room?', 'room😀'), true);
  assert.equal(matches('??', '😀😀'), true);
});

test('character classes, ranges and negation', () => {
  assert.equal(matches('room[12]', 'room1'), true);
  assert.equal(matches('room[12]', 'room3'), false);
  assert.equal(matches('room[0-9]', 'room7'), true);
  assert.equal(matches('room[0-9]', 'roomx'), false);
  assert.equal(matches('room[!0-9]', 'roomx'), true);
  assert.equal(matches('room[!0-9]', 'room7'), false);
  assert.equal(matches('[a-cx-z]', 'y'), true);
  assert.equal(matches('[a-cx-z]', 'd'), false);
  assert.equal(matches('[-a]', '-'), true);
  assert.equal(matches('[a-]', '-'), true);
  assert.equal(matches('[\\]]', ']'), true);
});

test('alternatives, nested, with wildcards inside', () => {
  assert.equal(matches('{chat,news}:*', 'chat:1'), true);
  assert.equal(matches('{chat,news}:*', 'news:1'), true);
  assert.equal(matches('{chat,news}:*', 'blog:1'), false);
  assert.equal(matches('{a{b,c},d}', 'ac'), true);
  assert.equal(matches('{a{b,c},d}', 'd'), true);
  assert.equal(matches('{a{b,c},d}', 'ad'), false);
  assert.equal(matches('x{,y}', 'x'), true);
  assert.equal(matches('x{,y}', 'xy'), true);
  assert.equal(matches('{*1,*2}', 'room2'), true);
  assert.equal(matches('{*1,*2}', 'room3'), false);
  assert.equal(matches('a,b', 'a,b'), true, 'a comma outside braces is literal');
});

test('escapes make metacharacters literal', () => {
  assert.equal(matches('a\\*', 'a*'), true);
  assert.equal(matches('a\\*', 'ab'), false);
  assert.equal(matches('\\{a\\}', '{a}'), true);
  assert.equal(matches('what\\?', 'what?'), true);
  assert.equal(matches('what\\?', 'whatx'), false);
});

test('invalid patterns are rejected with GlobSyntaxError', () => {
  for (const p of ['room[12', '[]', '[!]', '{a,b', 'a\\', '[z-a]', '{a,{b}']) {
    assert.throws(() => compileGlob(p), GlobSyntaxError, p);
  }
  assert.throws(() => compileGlob('a'.repeat(MAX_GLOB_LENGTH + 1)), GlobSyntaxError);
  assert.doesNotThrow(() => compileGlob('a'.repeat(MAX_GLOB_LENGTH)));
});

test('patterns that make backtracking matchers exponential still answer (NFA simulation)', () => {
  // 2^24 ways to split for a backtracking matcher; the NFA keeps at most a few dozen states.
  const pattern = '{*a,*a}'.repeat(24) + 'b';
  const name = 'a'.repeat(250);
  assert.equal(matches(pattern, name), false);
  assert.equal(matches(pattern, `${name}b`), true);
  assert.equal(matches('*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(255)), false);
});

test('agrees with an independent regular-expression translation on random inputs', () => {
  // Simple generator over a small alphabet so matches are frequent; seeded for reproducibility.
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const atoms = ['a', 'b', ':', '*', '?', '[ab]', '[!a]', '{a,b*}', '{,:}'];
  const toRegex = (atom: string): string =>
    ({ a: 'a', b: 'b', ':': ':', '*': '.*', '?': '.', '[ab]': '[ab]', '[!a]': '[^a]', '{a,b*}': '(?:a|b.*)', '{,:}': '(?:|:)' })[atom]!;
  for (let i = 0; i < 500; i++) {
    const parts = Array.from({ length: 1 + rnd(6) }, () => atoms[rnd(atoms.length)]!);
    const glob = compileGlob(parts.join(''));
    const re = new RegExp(`^(?:${parts.map(toRegex).join('')})$`, 's');
    for (let j = 0; j < 20; j++) {
      const name = Array.from({ length: rnd(8) }, () => 'ab:c'[rnd(4)]!).join('');
      assert.equal(glob.match(name), re.test(name), `${parts.join('')} vs ${JSON.stringify(name)}`);
    }
  }
});
