// `rotor` command dispatch: finds the command, parses its options strictly, answers --help on the
// root and on every command, and maps outcomes to exit codes (0 ok, 1 failure, 2 usage).
import { parseArgs } from 'node:util';
import { CommandError, ExitCode, UsageError, type CliContext, type Command } from './command.ts';
import { commands } from './commands/index.ts';

function rootHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'rotor: a Centrifugo-compatible real-time messaging cluster',
    '',
    'Usage: rotor <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "rotor <command> --help" for a command\'s options.',
    'Configuration: a JSON/YAML file (--config or ROTOR_CONFIG) and ROTOR_* environment variables.',
    '',
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [`Usage: rotor ${c.name}${c.usage === '' ? '' : ` ${c.usage}`}`, '', c.summary, ...(c.details === undefined ? [] : ['', c.details.trimEnd()]), ''].join('\n');
}

export async function run(argv: readonly string[], ctx: CliContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    ctx.stderr(rootHelp());
    return ExitCode.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' && rest[0] !== undefined ? commands.find((c) => c.name === rest[0]) : undefined;
    if (name === 'help' && rest[0] !== undefined && target === undefined) {
      ctx.stderr(`rotor: unknown command "${rest[0]}"\n\n${rootHelp()}`);
      return ExitCode.usage;
    }
    ctx.stdout(target === undefined ? rootHelp() : commandHelp(target));
    return ExitCode.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    ctx.stderr(`rotor: unknown command "${name}"\n\n${rootHelp()}`);
    return ExitCode.usage;
  }

  // `pnpm start -- --config F` hands the `--` on (npm strips it): a leading one is dropped, so both
  // spellings of the README's command work.
  const args = rest[0] === '--' ? rest.slice(1) : rest;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    ctx.stderr(`rotor ${command.name}: ${(err as Error).message}\n\n${commandHelp(command)}`);
    return ExitCode.usage;
  }
  if (parsed.values['help'] === true) {
    ctx.stdout(commandHelp(command));
    return ExitCode.ok;
  }
  const [min, max] = command.positionals ?? [0, 0];
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    const what = parsed.positionals.length < min ? 'missing argument' : `unexpected argument "${parsed.positionals[max]}"`;
    ctx.stderr(`rotor ${command.name}: ${what}\n\n${commandHelp(command)}`);
    return ExitCode.usage;
  }

  try {
    return await command.run({ values: parsed.values, positionals: parsed.positionals }, ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.stderr(`rotor ${command.name}: ${err.message}\n\n${commandHelp(command)}`);
      return ExitCode.usage;
    }
    if (err instanceof CommandError) {
      ctx.stderr(`rotor ${command.name}: ${err.message}\n`);
      return ExitCode.failure;
    }
    ctx.stderr(`rotor ${command.name}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return ExitCode.failure;
  }
}
