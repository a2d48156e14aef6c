// The command registry: one file per command; the order here is the order in `rotor --help`.
import type { Command } from '../command.ts';
import { api } from './api.ts';
import { checkconfig } from './checkconfig.ts';
import { cluster } from './cluster.ts';
import { gateway } from './gateway.ts';
import { genconfig } from './genconfig.ts';
import { gentoken } from './gentoken.ts';
import { history } from './history.ts';
import { start } from './start.ts';
import { version } from './version.ts';

export const commands: readonly Command[] = [start, gateway, api, history, cluster, genconfig, checkconfig, gentoken, version];
