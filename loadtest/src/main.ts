// `pnpm bench <scenario> [options]`: the load generator's command line (see --help).
import { parseCli, HELP, UsageError } from './cli/options.ts';
import { DEFAULT_RESULTS_DIR, runScenario } from './bench.ts';
import { defaultWorkers } from './scenarios/fanout/run.ts';
import { listTargets } from './targets/index.ts';
import { configureNatsServer } from './targets/nats/target.ts';
import { configureRotorNodeFlags, rotorNodeFlags } from './targets/rotor/config.ts';
import { configureRotorCluster } from './targets/rotor-cluster/target.ts';

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCli(argv, defaultWorkers());
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\nRun with --help for usage.\n`);
      return 2;
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(HELP.replace('%TARGETS%', listTargets().map((t) => t.name).join(',')).replace('%ROTOR_FLAGS%', rotorNodeFlags().join(' ') || 'none'));
    return 0;
  }
  const cfg = { ...parsed.config, outDir: argv.includes('--no-json') ? null : (parsed.config.outDir ?? DEFAULT_RESULTS_DIR) };
  if (cfg.natsServer) configureNatsServer(cfg.natsServer);
  configureRotorNodeFlags(cfg.rotorFlags);
  configureRotorCluster({ gateways: cfg.clusterGateways, shards: cfg.clusterShards });
  const log = cfg.quiet ? () => undefined : (line: string) => process.stderr.write(`${line}\n`);
  const command = `pnpm bench ${argv.join(' ')}`;
  let failures = 0;
  for (const scenario of cfg.scenarios) {
    let run;
    try {
      run = await runScenario(scenario, cfg, log, command);
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`${err.message}\n`);
        return 2;
      }
      throw err;
    }
    process.stdout.write(`\n${run.text}\n`);
    if (run.file) process.stdout.write(`\nresults: ${run.file}\n`);
    failures += run.report.results.filter((r) => 'skipped' in r && r.skipped.startsWith('failed')).length;
  }
  return failures > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
