// The shape of a `rotor` command and what it receives. Each command lives in its own file under
// commands/ and is listed in commands/index.ts; cli.ts parses arguments, answers --help and turns
// outcomes into exit codes. Commands never read process.env or process.argv: main.ts passes them in.
import type { ParseArgsConfig } from 'node:util';

/** Exit codes of the CLI. */
export const ExitCode = {
  ok: 0,
  /** The command ran and failed (invalid config, refused overwrite, …). */
  failure: 1,
  /** The command line itself was wrong (unknown command or option, missing argument). */
  usage: 2,
} as const;

export interface CliContext {
  /** The process environment (main.ts passes process.env). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  positionals: string[];
}

export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Arguments after the command name, e.g. "[--output FILE] [--force]". */
  readonly usage: string;
  /** Extra help text: options and examples. */
  readonly details?: string;
  readonly options?: OptionSpec;
  /** Positional arguments accepted: [min, max]. Default [0, 0]. */
  readonly positionals?: readonly [number, number];
  run(args: ParsedArgs, ctx: CliContext): Promise<number>;
}

/** Thrown by a command for a bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** Thrown by a command for an expected failure: message printed, exit code 1, no stack. */
export class CommandError extends Error {}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function stringsOption(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}
