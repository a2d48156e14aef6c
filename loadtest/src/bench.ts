// The programmatic entry point: run one scenario over a set of targets and build its report.
// main.ts is the CLI around it; tests call it directly.
import { fileURLToPath } from 'node:url';
import { computeRatios, machineInfo, renderRatios, renderTable, writeReport, type AnyResult, type Report } from './report.ts';
import { runFanout } from './scenarios/fanout/run.ts';
import { runIdle } from './scenarios/idle/run.ts';
import { runConnect } from './scenarios/connect/run.ts';
import { runPublish } from './scenarios/publish/run.ts';
import { getTarget, listTargets } from './targets/index.ts';
import type { ScenarioName, TargetFactory } from './target.ts';
import { UsageError, type BenchConfig } from './cli/options.ts';

export const DEFAULT_RESULTS_DIR = fileURLToPath(new URL('../results', import.meta.url));

export function resolveTargets(names: readonly string[]): TargetFactory[] {
  if (names.length === 0) return listTargets();
  return names.map((n) => {
    const f = getTarget(n);
    if (!f) throw new UsageError(`unknown target "${n}" (known: ${listTargets().map((t) => t.name).join(', ')})`);
    return f;
  });
}

export interface ScenarioRun {
  report: Report;
  /** The table (and ratios) as printed. */
  text: string;
  /** Path of the JSON file, or null when none was written. */
  file: string | null;
}

export async function runScenario(scenario: ScenarioName, cfg: BenchConfig, log: (line: string) => void, command = ''): Promise<ScenarioRun> {
  const factories = resolveTargets(cfg.targets);
  const startedAt = new Date().toISOString();
  const common = { format: cfg.format, payloadSize: cfg.payloadSize, durationMs: cfg.durationMs, warmupMs: cfg.warmupMs, log };
  let results: AnyResult[];
  let options: Record<string, unknown>;
  switch (scenario) {
    case 'fanout': {
      const o = {
        ...common,
        subscribers: cfg.subscribers,
        channels: cfg.channels,
        subChannels: cfg.subChannels,
        publishers: cfg.publishers,
        windows: cfg.windows,
        rates: cfg.rates,
        messages: cfg.messages,
        workers: cfg.workers,
        stallTimeoutMs: cfg.stallTimeoutMs,
        drainTimeoutMs: cfg.drainTimeoutMs,
        connectConcurrency: cfg.connectConcurrency,
      };
      results = await runFanout(factories, o);
      options = o;
      break;
    }
    case 'idle': {
      const o = { ...common, connections: cfg.connections, channels: cfg.channels, perProcess: cfg.perProcess, connectConcurrency: cfg.connectConcurrency, settleMs: cfg.settleMs };
      results = await runIdle(factories, o);
      options = o;
      break;
    }
    case 'connect': {
      const o = { ...common, connects: cfg.connects, concurrency: cfg.concurrency, channels: cfg.channels, workers: cfg.connectWorkers || undefined };
      results = await runConnect(factories, o);
      options = o;
      break;
    }
    case 'publish': {
      const o = { ...common, messages: cfg.messages, concurrency: cfg.concurrency, channels: cfg.channels, transports: cfg.transports };
      results = await runPublish(factories, o);
      options = o;
      break;
    }
  }
  const { log: _log, ...printable } = options as { log: unknown } & Record<string, unknown>;
  const subjects = new Set(factories.filter((f) => f.subject).map((f) => f.name));
  const ratios = computeRatios(scenario, results, subjects);
  const report: Report = {
    scenario,
    startedAt,
    finishedAt: new Date().toISOString(),
    command,
    machine: machineInfo(),
    options: printable,
    results,
    ratios,
  };
  const r = renderRatios(ratios);
  const text = `${scenario}\n${renderTable(scenario, results)}${r ? `\n\n${r}` : ''}`;
  const file = cfg.outDir === null ? null : writeReport(cfg.outDir, report);
  return { report, text, file };
}
