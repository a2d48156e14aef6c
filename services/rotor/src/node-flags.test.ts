import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ROTOR_NODE_FLAGS } from './node-flags.ts';
import { childExecArgv } from './commands/cluster.ts';

test('the root package.json scripts launch Rotor with the launch flags', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  for (const name of ['start', 'rotor', 'cluster']) {
    const words = (pkg.scripts[name] ?? '').split(' ');
    assert.equal(words[0], 'node', name);
    assert.deepEqual(words.slice(1, 1 + ROTOR_NODE_FLAGS.length), [...ROTOR_NODE_FLAGS], `pnpm ${name}: ${pkg.scripts[name]}`);
  }
});

test('rotor cluster children get the launch flags unless the supervisor was given its own value', () => {
  const flag = ROTOR_NODE_FLAGS[0]!;
  const name = flag.split('=')[0]!;
  const plain = childExecArgv(['--import', 'file:///x/tsx.mjs']);
  assert.deepEqual(plain, [...ROTOR_NODE_FLAGS, '--import', 'file:///x/tsx.mjs']);
  const own = childExecArgv([`${name}=16`, '--import', 'file:///x/tsx.mjs']);
  assert.deepEqual(own, [`${name}=16`, '--import', 'file:///x/tsx.mjs']);
  const profiled = childExecArgv([flag, '--cpu-prof']);
  assert.deepEqual(profiled, [flag, '--cpu-prof'], 'not added twice');
});
