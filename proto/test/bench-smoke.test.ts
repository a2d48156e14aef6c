// Every benchmark beside the code runs briefly, so a bench that no longer runs fails CI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run as runPush } from '../src/push.bench.ts';
import { run as runFrames } from '../src/frames.bench.ts';

for (const [name, run] of [['push.bench.ts', runPush], ['frames.bench.ts', runFrames]] as const) {
  test(`${name} runs`, () => {
    const results = run({ durationMs: 5 });
    assert.ok(results.length > 0);
    for (const r of results) {
      assert.ok(r.ops > 0 && Number.isFinite(r.nsPerOp) && r.nsPerOp > 0, `${r.name}: ${r.nsPerOp} ns/op`);
    }
  });
}
