// CPU time and resident memory of a process, read from /proc (Linux). CPU is sampled as
// cumulative user+system seconds so callers compute utilisation over their own interval; for a
// multi-threaded process (nats-server, a Node process with workers) it covers all threads.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

// getconf ships with libc on every Linux; a machine without it cannot run the harness anyway.
function sysconf(name: string): number {
  const v = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
  if (!Number.isFinite(v) || v <= 0) throw new Error(`getconf ${name} returned ${v}`);
  return v;
}

const CLOCK_TICKS = sysconf('CLK_TCK');
const PAGE_SIZE = sysconf('PAGESIZE');

export interface ProcSample {
  /** user + system CPU seconds since the process started (all threads). */
  cpuSeconds: number;
  /** Resident set size in bytes. */
  rssBytes: number;
}

/** Reads /proc/<pid>/stat; null when the process is gone. */
export function sampleProcess(pid: number): ProcSample | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return null;
    throw err;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime 15, rss 24.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rssPages = Number(fields[21]);
  return { cpuSeconds: (utime + stime) / CLOCK_TICKS, rssBytes: rssPages * PAGE_SIZE };
}

/** This process (every thread): CPU seconds via process.cpuUsage, RSS via process.memoryUsage. */
export function sampleSelf(): ProcSample {
  const u = process.cpuUsage();
  return { cpuSeconds: (u.user + u.system) / 1e6, rssBytes: process.memoryUsage.rss() };
}

/** CPU utilisation in percent of one core between two samples taken `seconds` apart. */
export function cpuPercent(before: ProcSample | null, after: ProcSample | null, seconds: number): number {
  if (!before || !after || seconds <= 0) return 0;
  return (100 * (after.cpuSeconds - before.cpuSeconds)) / seconds;
}
