// Public surface of @rotor/cli: the dispatcher and the pieces commands are built from.
export { run } from './cli.ts';
export * from './command.ts';
export { loadCliConfig } from './config.ts';
export { commands } from './commands/index.ts';
export { startEmbedded } from './embedded/server.ts';
export type { EmbeddedOptions, EmbeddedServer } from './embedded/server.ts';
export { ROTOR_NODE_FLAGS } from './node-flags.ts';
