// Placeholder for commands whose implementation lands later (each in its own file, replaced by
// the colleague who owns the role).
import { ExitCode, type Command } from '../command.ts';

export function notAvailable(name: string, summary: string): Command {
  return {
    name,
    summary: `${summary} (not available yet)`,
    usage: '[--config FILE]',
    options: { config: { type: 'string', short: 'c' } },
    async run(_args, ctx) {
      ctx.stderr(`rotor ${name}: not available yet in this build\n`);
      return ExitCode.failure;
    },
  };
}
