// Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self time and the
// most inclusive time, with their file and line, as plain text. Used to read the gateway's
// profiles under load (README, "Profiling"):
//
//   node --import tsx loadtest/src/tools/profile-summary.ts FILE.cpuprofile [--top 30] [--filter TEXT]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Row {
  name: string;
  selfMs: number;
  totalMs: number;
}

function label(f: CallFrame): string {
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/(services|packages|proto|loadtest|node_modules)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim();
}

/** Self and inclusive time per function (a function that recurses is counted once per sample). */
export function summarise(p: Profile): { rows: Row[]; totalMs: number } {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let totalMs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const ms = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    let id: number | undefined = p.samples[i]!;
    const leaf = byId.get(id);
    if (leaf === undefined) continue;
    const leafName = label(leaf.callFrame);
    self.set(leafName, (self.get(leafName) ?? 0) + ms);
    const seen = new Set<string>();
    while (id !== undefined) {
      const n = byId.get(id);
      if (n === undefined) break;
      const name = label(n.callFrame);
      if (!seen.has(name)) {
        seen.add(name);
        total.set(name, (total.get(name) ?? 0) + ms);
      }
      id = parent.get(id);
    }
  }
  const rows = [...total.entries()].map(([name, t]) => ({ name, selfMs: self.get(name) ?? 0, totalMs: t }));
  return { rows, totalMs };
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' }, filter: { type: 'string' } } });
  const file = positionals[0];
  if (file === undefined) throw new Error('usage: profile-summary.ts FILE.cpuprofile [--top N] [--filter TEXT]');
  const top = Number(values.top ?? 30);
  const { rows, totalMs } = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const filtered = values.filter === undefined ? rows : rows.filter((r) => r.name.includes(values.filter!));
  const pct = (ms: number) => `${((100 * ms) / totalMs).toFixed(1).padStart(5)}%`;
  const print = (title: string, sorted: Row[]) => {
    process.stdout.write(`\n${title}\n`);
    for (const r of sorted.slice(0, top)) process.stdout.write(`${pct(r.selfMs)} self ${pct(r.totalMs)} total  ${r.name}\n`);
  };
  process.stdout.write(`${file}: ${(totalMs / 1000).toFixed(2)} s sampled\n`);
  print('by self time', [...filtered].sort((a, b) => b.selfMs - a.selfMs));
  print('by total time', [...filtered].sort((a, b) => b.totalMs - a.totalMs));
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) main();
