#!/usr/bin/env node
// Entry point of the `rotor` CLI (`pnpm rotor …`). The only module that touches process.argv and
// process.env; everything else receives them through the CliContext.
import { run } from './cli.ts';

// Under `pnpm start` / `pnpm rotor` the script runs in the repository root; INIT_CWD is where the
// user typed the command, so `--config my.json` means the file they see there.
const initCwd = process.env['npm_lifecycle_event'] !== undefined ? process.env['INIT_CWD'] : undefined;

const code = await run(process.argv.slice(2), {
  env: process.env,
  cwd: initCwd !== undefined && initCwd !== '' ? initCwd : process.cwd(),
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
});
process.exitCode = code;
