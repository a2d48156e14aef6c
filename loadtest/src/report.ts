// Turning results into what a reader sees: one table per scenario, ratios of the system under test
// (targets registered with subject: true — Rotor) to every baseline, and the JSON file.
import { cpus, totalmem, release } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmtBytes, fmtPct, fmtRate, fmtRatio, fmtUs, table } from './lib/format.ts';
import { isSkipped, type SkippedRun } from './scenarios/common.ts';
import type { FanoutResult } from './scenarios/fanout/run.ts';
import type { IdleResult } from './scenarios/idle/run.ts';
import type { ConnectResult } from './scenarios/connect/run.ts';
import type { PublishResult } from './scenarios/publish/run.ts';
import type { ScenarioName } from './target.ts';

export type AnyResult = FanoutResult | IdleResult | ConnectResult | PublishResult | SkippedRun;

export interface Ratio {
  subject: string;
  baseline: string;
  /** e.g. "W=32" for fanout; empty when the scenario has one phase. */
  phase: string;
  metric: string;
  /** subject / baseline; for "lower is better" metrics the reader must read < 1 as better. */
  value: number;
  higherIsBetter: boolean;
}

export interface Report {
  scenario: ScenarioName;
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; memoryBytes: number; node: string; kernel: string };
  options: Record<string, unknown>;
  results: AnyResult[];
  ratios: Ratio[];
}

export function machineInfo(): Report['machine'] {
  const c = cpus();
  return { cpus: c.length, cpuModel: c[0]?.model ?? 'unknown', memoryBytes: totalmem(), node: process.version, kernel: release() };
}

function ok<T extends object>(results: AnyResult[]): T[] {
  return results.filter((r) => !isSkipped(r)) as T[];
}

interface Metric<T> {
  name: string;
  get(r: T): number;
  higherIsBetter: boolean;
}

function ratiosOf<T extends { target: string }>(rows: T[], subjects: ReadonlySet<string>, phase: (r: T) => string, metrics: Metric<T>[]): Ratio[] {
  const out: Ratio[] = [];
  for (const s of rows.filter((r) => subjects.has(r.target))) {
    for (const b of rows.filter((r) => !subjects.has(r.target) && phase(r) === phase(s))) {
      for (const m of metrics) {
        const bv = m.get(b);
        out.push({ subject: s.target, baseline: b.target, phase: phase(s), metric: m.name, value: bv !== 0 ? m.get(s) / bv : Number.NaN, higherIsBetter: m.higherIsBetter });
      }
    }
  }
  return out;
}

export function computeRatios(scenario: ScenarioName, results: AnyResult[], subjects: ReadonlySet<string>): Ratio[] {
  switch (scenario) {
    case 'fanout':
      return ratiosOf(ok<FanoutResult>(results), subjects, fanoutPhase, [
        { name: 'delivered/s', get: (r) => r.deliveredPerSecond, higherIsBetter: true },
        { name: 'deliveries per server CPU-s', get: (r) => r.deliveriesPerServerCpuSecond, higherIsBetter: true },
        { name: 'p99 latency', get: (r) => r.latencyUs.p99, higherIsBetter: false },
      ]);
    case 'idle':
      return ratiosOf(ok<IdleResult>(results), subjects, () => '', [{ name: 'bytes per connection', get: (r) => r.bytesPerConnection, higherIsBetter: false }]);
    case 'connect':
      return ratiosOf(ok<ConnectResult>(results), subjects, () => '', [
        { name: 'connects/s', get: (r) => r.connectsPerSecond, higherIsBetter: true },
        { name: 'connects per server CPU-s', get: (r) => r.connectsPerServerCpuSecond, higherIsBetter: true },
      ]);
    case 'publish':
      return [];
  }
}

/** A fanout phase's name: "W=32" (closed loop) or "rate 50%" (fixed rate). */
export function fanoutPhase(r: FanoutResult): string {
  return r.rate === undefined ? `W=${r.window}` : `rate ${r.rateSpec ?? fmtRate(r.rate)}`;
}

function skippedLines(results: AnyResult[]): string {
  const lines = results.filter(isSkipped).map((r) => `  ${r.target}: ${r.skipped}`);
  return lines.length ? `\nskipped:\n${lines.join('\n')}` : '';
}

/** For targets made of several processes (a cluster), each process's share. */
function processBreakdown(rows: { name: string; server: { label: string; cpuPercent: number; rssBytes: number }[] }[]): string {
  const multi = rows.filter((r) => r.server.length > 1);
  if (multi.length === 0) return '';
  const lines = multi.map((r) => `  ${r.name}: ${r.server.map((p) => `${p.label} ${fmtPct(p.cpuPercent)} ${fmtBytes(p.rssBytes)}`).join(', ')}`);
  return `\nserver processes (cpu, rss):\n${lines.join('\n')}`;
}

/** Fixed-rate phases that could not keep their schedule (the window or the server held them back). */
function rateNotes(rows: FanoutResult[]): string {
  const late = rows.filter((r) => r.rate !== undefined && r.seconds > 0 && r.published / r.seconds < 0.97 * r.rate);
  if (late.length === 0) return '';
  const lines = late.map((r) => `  ${r.target} ${fanoutPhase(r)}: published ${fmtRate(r.published / r.seconds)}/s of ${fmtRate(r.rate!)}/s scheduled`);
  return `\nfixed rate not reached (latency includes the wait):\n${lines.join('\n')}`;
}

/** Multi-process targets: each process's RSS before → after the connections. */
function idleBreakdown(rows: IdleResult[]): string {
  const multi = rows.filter((r) => (r.processes?.length ?? 0) > 1);
  if (multi.length === 0) return '';
  const lines = multi.map(
    (r) => `  ${r.target}: ${r.processes.map((p) => `${p.label} ${fmtBytes(p.rssBeforeBytes)} → ${fmtBytes(p.rssAfterBytes)}`).join(', ')}`,
  );
  return `\nserver processes (rss before → after):\n${lines.join('\n')}`;
}

function lossCell(r: FanoutResult): string {
  const l = r.loss;
  const parts: string[] = [];
  if (l.lost) parts.push(`lost ${l.lost} (${l.subscribersWithLoss} subs)`);
  if (l.duplicates) parts.push(`dup ${l.duplicates}`);
  if (l.disorder) parts.push(`disorder ${l.disorder}`);
  if (l.malformed) parts.push(`bad ${l.malformed}`);
  if (l.disconnected) parts.push(`disc ${l.disconnected}`);
  if (r.ended === 'stalled') parts.push('STALLED');
  else if (!r.drained) parts.push('undrained');
  return parts.length ? parts.join(', ') : 'none';
}

export function renderTable(scenario: ScenarioName, results: AnyResult[]): string {
  switch (scenario) {
    case 'fanout': {
      const rows = ok<FanoutResult>(results).map((r) => [
        r.target,
        r.rate === undefined ? String(r.window) : `${fmtRate(r.rate)}/s`,
        fmtRate(r.deliveredPerSecond),
        fmtUs(r.latencyUs.p50),
        fmtUs(r.latencyUs.p99),
        fmtUs(r.latencyUs.p999),
        fmtPct(r.serverCpuPercent),
        r.deliveriesPerServerCpuSecond > 0 ? fmtRate(r.deliveriesPerServerCpuSecond) : '-',
        fmtBytes(r.serverRssBytes),
        fmtPct(r.generatorCpuPercent),
        r.messagesPerFrame.toFixed(1),
        lossCell(r),
      ]);
      return (
        table(['target', 'W', 'deliv/s', 'p50', 'p99', 'p99.9', 'srv cpu', 'deliv/cpu-s', 'srv rss', 'gen cpu', 'msg/frame', 'loss'], rows) +
        processBreakdown(ok<FanoutResult>(results).map((r) => ({ name: `${r.target} ${fanoutPhase(r)}`, server: r.server }))) +
        rateNotes(ok<FanoutResult>(results)) +
        skippedLines(results)
      );
    }
    case 'idle': {
      const rows = ok<IdleResult>(results).map((r) => [
        r.target,
        String(r.connections),
        String(r.failed + r.droppedWhileIdle),
        fmtBytes(r.rssBefore.rssBytes),
        fmtBytes(r.rssAfter.rssBytes) + (r.rssAfter.stable && r.rssBefore.stable ? '' : '*'),
        fmtBytes(r.bytesPerConnection),
        fmtPct(r.idleServerCpuPercent),
        `${r.connectSeconds.toFixed(1)}s`,
      ]);
      return (
        table(['target', 'conns', 'failed', 'rss before', 'rss after', 'per conn', 'idle cpu', 'connect time'], rows) +
        (rows.some((r) => r[4]!.endsWith('*')) ? '\n* RSS was still moving when the settle wait ended' : '') +
        idleBreakdown(ok<IdleResult>(results)) +
        skippedLines(results)
      );
    }
    case 'connect': {
      const rows = ok<ConnectResult>(results).map((r) => [
        r.target,
        fmtRate(r.connectsPerSecond),
        fmtUs(r.latencyUs.p50),
        fmtUs(r.latencyUs.p99),
        fmtPct(r.serverCpuPercent),
        r.connectsPerServerCpuSecond > 0 ? fmtRate(r.connectsPerServerCpuSecond) : '-',
        fmtPct(r.generatorCpuPercent),
        String(r.failed),
      ]);
      return (
        table(['target', 'conn/s', 'p50', 'p99', 'srv cpu', 'conn/cpu-s', 'gen cpu', 'failed'], rows) +
        processBreakdown(ok<ConnectResult>(results).map((r) => ({ name: r.target, server: r.server }))) +
        skippedLines(results)
      );
    }
    case 'publish': {
      const rows = ok<PublishResult>(results).map((r) => [
        r.target,
        r.transport,
        fmtRate(r.publishesPerSecond),
        fmtUs(r.latencyUs.p50),
        fmtUs(r.latencyUs.p99),
        fmtUs(r.latencyUs.p999),
        fmtPct(r.serverCpuPercent),
        r.publishesPerServerCpuSecond > 0 ? fmtRate(r.publishesPerServerCpuSecond) : '-',
        fmtPct(r.generatorCpuPercent),
        String(r.failed),
      ]);
      return (
        table(['target', 'api', 'pub/s', 'p50', 'p99', 'p99.9', 'srv cpu', 'pub/cpu-s', 'gen cpu', 'failed'], rows) +
        processBreakdown(ok<PublishResult>(results).map((r) => ({ name: `${r.target} ${r.transport}`, server: r.server }))) +
        skippedLines(results)
      );
    }
  }
}

export function renderRatios(ratios: Ratio[]): string {
  if (ratios.length === 0) return '';
  const rows = ratios.map((r) => [`${r.subject} / ${r.baseline}`, r.phase, r.metric, fmtRatio(r.value), r.higherIsBetter ? 'higher is better' : 'lower is better']);
  return table(['ratio', 'phase', 'metric', 'value', ''], rows);
}

/** Writes `<dir>/<scenario>-<timestamp>.json` and returns its path. */
export function writeReport(dir: string, report: Report): string {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const file = join(dir, `${report.scenario}-${stamp}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return file;
}
