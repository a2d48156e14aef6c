// rotor checkconfig: loads a config file (plus the ROTOR_* environment, as the server would) and
// reports warnings, or every problem with its key path.
import { ExitCode, type Command } from '../command.ts';
import { loadCliConfig } from '../config.ts';

export const checkconfig: Command = {
  name: 'checkconfig',
  summary: 'Validate a config file: print warnings, or every problem (exit 1)',
  usage: '<file>',
  details: 'ROTOR_* environment variables apply on top of the file, exactly as at start-up.',
  positionals: [1, 1],
  async run(args, ctx) {
    const file = args.positionals[0] as string;
    loadCliConfig(ctx, file);
    ctx.stdout(`${file}: configuration is valid\n`);
    return ExitCode.ok;
  },
};
