// Loading the configuration for a CLI command: the file from --config (or ROTOR_CONFIG), then the
// ROTOR_* environment; warnings go to stderr, problems become a CommandError listing each of them.
import { resolve } from 'node:path';
import { ConfigError, loadConfig, type RotorConfig } from '@rotor/core';
import { CommandError, type CliContext } from './command.ts';

export function loadCliConfig(ctx: CliContext, file: string | undefined): Readonly<RotorConfig> {
  const path = file ?? ctx.env['ROTOR_CONFIG'];
  try {
    const { config, warnings } = loadConfig({ ...(path === undefined || path === '' ? {} : { file: resolve(ctx.cwd, path) }), env: ctx.env });
    for (const w of warnings) ctx.stderr(`warning: ${w}\n`);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandError(err.message);
    throw err;
  }
}
