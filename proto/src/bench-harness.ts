// Minimal benchmark harness for the *.bench.ts files beside the code. Each case runs in batches
// until the time budget is spent (after a short warm-up) and reports the mean time per operation.
// Figures are for comparison on one machine, not absolute truths: run a bench file on an idle
// machine, e.g. `node --import tsx proto/src/push.bench.ts`.
import { fileURLToPath } from 'node:url';

export interface BenchCase {
  readonly name: string;
  /** One operation; the return value is kept alive so the work cannot be optimised away. */
  readonly fn: () => unknown;
  /** Bytes processed per operation, for a MB/s column. */
  readonly bytes?: number;
}

export interface BenchResult {
  readonly name: string;
  readonly ops: number;
  readonly nsPerOp: number;
  readonly opsPerSec: number;
  readonly mbPerSec?: number;
}

export interface BenchOptions {
  /** Measuring time per case (default 1000 ms). */
  readonly durationMs?: number;
}

let sink: unknown;

export function runCases(cases: readonly BenchCase[], options: BenchOptions = {}): BenchResult[] {
  const durationMs = options.durationMs ?? 1000;
  const results: BenchResult[] = [];
  for (const c of cases) {
    // Warm-up: let the JIT settle.
    const warmEnd = performance.now() + Math.min(200, durationMs / 4);
    while (performance.now() < warmEnd) for (let i = 0; i < 64; i++) sink = c.fn();
    let ops = 0;
    const start = performance.now();
    const end = start + durationMs;
    let now = start;
    while (now < end) {
      for (let i = 0; i < 256; i++) sink = c.fn();
      ops += 256;
      now = performance.now();
    }
    const ns = ((now - start) * 1e6) / ops;
    const opsPerSec = 1e9 / ns;
    results.push({
      name: c.name,
      ops,
      nsPerOp: ns,
      opsPerSec,
      ...(c.bytes !== undefined ? { mbPerSec: (c.bytes * opsPerSec) / 1e6 } : {}),
    });
  }
  if (sink === Symbol.for('never')) console.log('unreachable');
  return results;
}

export function formatResults(title: string, results: readonly BenchResult[]): string {
  const w = Math.max(...results.map((r) => r.name.length), 10);
  const lines = [`${title}`, `${'case'.padEnd(w)}  ${'ns/op'.padStart(9)}  ${'ops/s'.padStart(12)}  ${'MB/s'.padStart(8)}`];
  for (const r of results) {
    const mb = r.mbPerSec === undefined ? '' : r.mbPerSec.toFixed(0);
    lines.push(`${r.name.padEnd(w)}  ${r.nsPerOp.toFixed(0).padStart(9)}  ${Math.round(r.opsPerSec).toLocaleString('en-US').padStart(12)}  ${mb.padStart(8)}`);
  }
  return lines.join('\n');
}

/** True when `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(moduleUrl) === process.argv[1];
}
