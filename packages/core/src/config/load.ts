// loadConfig: defaults < JSON or YAML file < ROTOR_* environment, decoded against the schema,
// validated, deep-frozen. Throws one ConfigError listing every problem; returns warnings (unknown
// or unsupported keys, insecure modes) for the caller to print or log.
import { readFileSync, statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { decodeObject, defaultsOf, isPlainObject, type Tree } from './decode.ts';
import { applyEnv } from './env.ts';
import { ConfigError, Problems } from './problems.ts';
import { schema } from './schema.ts';
import type { RotorConfig } from './types.ts';
import { validateConfig } from './validate.ts';

export { ConfigError } from './problems.ts';
export { configEnvNames, nonConfigEnvVars } from './env.ts';

export interface LoadConfigOptions {
  /** Path of a JSON (.json) or YAML (.yaml/.yml) file; other extensions are read as YAML. */
  file?: string;
  /** The process environment (only ROTOR_* variables are read). */
  env: Readonly<Record<string, string | undefined>>;
  /** Default of rotor.node_name; os.hostname() when absent. */
  hostname?: string;
}

export interface LoadedConfig {
  config: Readonly<RotorConfig>;
  warnings: string[];
}

const maxFileBytes = 4 * 1024 * 1024;

export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const problems = new Problems();
  const raw = options.file === undefined ? {} : readConfigFile(options.file);
  applyEnv(raw, options.env, problems);

  const decoded = defaultsOf(schema);
  const rotor = decoded['rotor'] as Tree;
  rotor['nodeName'] = options.hostname ?? osHostname();
  decodeObject(schema, raw, '', decoded, problems);
  const config = decoded as unknown as RotorConfig;
  validateConfig(config, problems);

  if (problems.errors.length > 0) throw new ConfigError(problems.errors);
  return { config: deepFreeze(config), warnings: problems.warnings };
}

/** The configuration with no file and no environment (every default). */
export function defaultConfig(hostname?: string): Readonly<RotorConfig> {
  return loadConfig({ env: {}, ...(hostname === undefined ? {} : { hostname }) }).config;
}

function readConfigFile(file: string): Tree {
  const ext = extname(file).toLowerCase();
  if (ext === '.toml') throw new ConfigError([`${file}: TOML config files are not supported; use JSON or YAML`]);
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > maxFileBytes) throw new ConfigError([`${file}: file is ${size} bytes; the limit is ${maxFileBytes}`]);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([`${file}: cannot read config file: ${(err as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = ext === '.json' ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true, merge: true, maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError([`${file}: not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`]);
  }
  // An empty YAML document means "all defaults".
  if (parsed === null || parsed === undefined) return {};
  if (!isPlainObject(parsed)) throw new ConfigError([`${file}: the top level must be an object of keys`]);
  return parsed;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
