// rotor version: the CLI package version and the Node.js running it.
import { readFileSync } from 'node:fs';
import { ExitCode, type Command } from '../command.ts';

export function rotorVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export const version: Command = {
  name: 'version',
  summary: 'Print the Rotor version',
  usage: '',
  async run(_args, ctx) {
    ctx.stdout(`rotor ${rotorVersion()} (node ${process.version})\n`);
    return ExitCode.ok;
  },
};
