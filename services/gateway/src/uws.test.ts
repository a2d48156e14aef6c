import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isNativeUws, loadUws } from './uws.ts';

test('the native uWebSockets.js addon loads here', () => {
  assert.equal(isNativeUws(loadUws()), true);
});

test('start-up fails loudly when only the JavaScript fallback loads', () => {
  const uwsModule = fileURLToPath(new URL('./uws.ts', import.meta.url));
  const script = `import { loadUws } from ${JSON.stringify(uwsModule)}; loadUws();`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, UWS_USE_FALLBACK: '1' },
    encoding: 'utf8',
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /native binary did not load/);
});

test('objects without the native exports are not taken for the addon', () => {
  assert.equal(isNativeUws(null), false);
  assert.equal(isNativeUws({ App: () => undefined }), false);
});
