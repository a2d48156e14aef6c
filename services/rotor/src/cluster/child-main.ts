// Entry point of a role process started by `rotor cluster`: the ordinary CLI, plus one guard —
// when stdin (a pipe from the supervisor) closes, the supervisor is gone, and the process stops
// itself with SIGTERM (a graceful drain), so no child outlives a killed supervisor.
import { run } from '../cli.ts';

process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.on('error', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.resume();

const code = await run(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
});
process.stdin.destroy();
process.exitCode = code;
