// Who used the CPU: the server's processes (from /proc/<pid>/stat) and the load generator (this
// process, all threads, plus any client child processes) between two snapshots.
import { cpuPercent, sampleProcess, sampleSelf, type ProcSample } from './proc-stats.ts';
import type { ServerProcess } from '../target.ts';

export interface MeterSnapshot {
  timeMs: number;
  server: (ProcSample | null)[];
  self: ProcSample;
  helpers: (ProcSample | null)[];
}

export interface ServerUsage {
  label: string;
  pid: number;
  cpuPercent: number;
  rssBytes: number;
}

export interface Usage {
  seconds: number;
  server: ServerUsage[];
  /** Sum over the server's processes, in percent of one core. */
  serverCpuPercent: number;
  serverRssBytes: number;
  /** The load generator: this process (every thread) plus its client child processes. */
  generatorCpuPercent: number;
}

export class Meter {
  constructor(
    private readonly servers: readonly ServerProcess[],
    private readonly helperPids: () => readonly number[] = () => [],
  ) {}

  snapshot(): MeterSnapshot {
    return {
      timeMs: performance.now(),
      server: this.servers.map((p) => sampleProcess(p.pid)),
      self: sampleSelf(),
      helpers: this.helperPids().map((pid) => sampleProcess(pid)),
    };
  }

  /** Server RSS now (sum over processes). */
  serverRss(): number {
    let sum = 0;
    for (const p of this.servers) sum += sampleProcess(p.pid)?.rssBytes ?? 0;
    return sum;
  }

  usage(a: MeterSnapshot, b: MeterSnapshot): Usage {
    const seconds = (b.timeMs - a.timeMs) / 1000;
    const server = this.servers.map((p, i) => ({
      label: p.label,
      pid: p.pid,
      cpuPercent: cpuPercent(a.server[i] ?? null, b.server[i] ?? null, seconds),
      rssBytes: b.server[i]?.rssBytes ?? 0,
    }));
    let generator = cpuPercent(a.self, b.self, seconds);
    const n = Math.min(a.helpers.length, b.helpers.length);
    for (let i = 0; i < n; i++) generator += cpuPercent(a.helpers[i] ?? null, b.helpers[i] ?? null, seconds);
    return {
      seconds,
      server,
      serverCpuPercent: server.reduce((s, x) => s + x.cpuPercent, 0),
      serverRssBytes: server.reduce((s, x) => s + x.rssBytes, 0),
      generatorCpuPercent: generator,
    };
  }
}
