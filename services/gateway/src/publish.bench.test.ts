// publish.bench.ts keeps running (smoke sizes): every case goes through the whole client publish
// path, one topic frame per burst and one reply per publication.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('publish.bench.ts --smoke runs every case', async () => {
  const bench = fileURLToPath(new URL('./publish.bench.ts', import.meta.url));
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', bench, '--smoke'], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 8, out);
  for (const line of lines) {
    assert.match(line, /\d+ ns CPU\/publication/);
    assert.match(line, /1\.00 reply writes per publication/);
    const perFrame = Number(/([\d.]+) publications per topic frame/.exec(line)?.[1]);
    const burst = Number(/burst +(\d+)/.exec(line)?.[1]);
    assert.ok(Math.abs(perFrame - burst) <= 1, `one topic frame per burst: ${line}`);
  }
});
