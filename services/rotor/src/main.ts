#!/usr/bin/env node
// Entry point of the `rotor` CLI (`pnpm rotor …`). The only module that touches process.argv and
// process.env; everything else receives them through the CliContext.
import { run } from './cli.ts';

const code = await run(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
});
process.exitCode = code;
