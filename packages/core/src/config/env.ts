// Environment overrides: `ROTOR_` + the key path in upper snake case
// (`client.token.hmac_secret_key` → ROTOR_CLIENT_TOKEN_HMAC_SECRET_KEY). Scalars are parsed by the
// key's type; lists and objects take a JSON value (ROTOR_CHANNEL_NAMESPACES='[{"name":"chat"}]';
// plain lists also accept space- or comma-separated items). Object values merge into the file's
// object; lists replace. Keys under `rotor.*` also answer to the shorter ROTOR_NATS_URL form.
import { isPlainObject, type Tree } from './decode.ts';
import type { Problems } from './problems.ts';
import { schema, type Field } from './schema.ts';

/** ROTOR_* variables that are not configuration keys (read elsewhere); never warned about. */
export const nonConfigEnvVars: ReadonlySet<string> = new Set(['ROTOR_CONFIG', 'ROTOR_TEST_CONCURRENCY']);

interface EnvKey {
  path: readonly string[];
  field: Field;
  /** The canonical name when this entry is a short alias. */
  aliasOf?: string;
}

function buildIndex(): Map<string, EnvKey> {
  const index = new Map<string, EnvKey>();
  const walk = (fields: Readonly<Record<string, Field>>, path: string[]): void => {
    for (const [key, field] of Object.entries(fields)) {
      if (field.kind === 'ignored') continue;
      const p = [...path, key];
      const name = envName(p);
      if (index.has(name)) throw new Error(`config schema: environment name ${name} is ambiguous`);
      index.set(name, { path: p, field });
      if (field.kind === 'object') walk(field.fields, p);
    }
  };
  walk(schema, []);
  for (const [name, entry] of [...index]) {
    if (entry.path[0] !== 'rotor' || entry.path.length < 2) continue;
    const alias = envName(entry.path.slice(1));
    if (!index.has(alias)) index.set(alias, { ...entry, aliasOf: name });
  }
  return index;
}

export function envName(path: readonly string[]): string {
  return `ROTOR_${path.join('_').toUpperCase()}`;
}

let envIndex: Map<string, EnvKey> | undefined;

/** Every recognised configuration variable name (for docs and tests). */
export function configEnvNames(): string[] {
  envIndex ??= buildIndex();
  return [...envIndex.keys()].sort();
}

/** Merges the ROTOR_* variables of `env` into the raw tree `raw` (mutated). */
export function applyEnv(raw: Tree, env: Readonly<Record<string, string | undefined>>, problems: Problems): void {
  envIndex ??= buildIndex();
  const entries: Array<{ name: string; key: EnvKey; value: string }> = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('ROTOR_') || value === undefined || nonConfigEnvVars.has(name)) continue;
    const key = envIndex.get(name);
    if (key === undefined) {
      problems.warn(name, 'unknown environment variable, ignored');
      continue;
    }
    if (key.aliasOf !== undefined && env[key.aliasOf] !== undefined) {
      problems.warn(name, `ignored: ${key.aliasOf} is also set and takes precedence`);
      continue;
    }
    entries.push({ name, key, value });
  }
  // Whole objects first, then the keys inside them, so a specific variable beats a JSON blob.
  entries.sort((a, b) => a.key.path.length - b.key.path.length);
  for (const { name, key, value } of entries) {
    const path = key.path.join('.');
    const parsed = parseEnvValue(key.field, value);
    if ('error' in parsed) {
      problems.setOrigin(path, name);
      problems.error(path, parsed.error);
      continue;
    }
    recordOrigins(problems, path, parsed.value, name);
    setAt(raw, key.path, parsed.value);
  }
}

/** Labels the paths an environment value supplies, leaf by leaf for objects merged into the file's. */
function recordOrigins(problems: Problems, path: string, value: unknown, name: string): void {
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) recordOrigins(problems, `${path}.${k}`, v, name);
  } else {
    problems.setOrigin(path, name);
  }
}

function parseEnvValue(field: Field, text: string): { value: unknown } | { error: string } {
  switch (field.kind) {
    case 'string':
    case 'duration':
      return { value: text };
    case 'bool':
      if (/^(true|1)$/i.test(text)) return { value: true };
      if (/^(false|0)$/i.test(text)) return { value: false };
      return { error: `expected true or false, got ${JSON.stringify(text)}` };
    case 'int':
    case 'unixSeconds':
      if (/^-?\d+$/.test(text.trim())) return { value: Number(text.trim()) };
      return { error: `expected an integer, got ${JSON.stringify(text)}` };
    case 'strings':
      if (text.trim().startsWith('[')) return parseJson(text);
      return { value: text.split(/[\s,]+/).filter((s) => s !== '') };
    case 'object':
    case 'namespaces':
    case 'objects':
    case 'stringMap':
      return parseJson(text);
    case 'ignored':
      return { error: 'not a configuration key' };
  }
}

function parseJson(text: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return { error: `invalid JSON: ${(err as Error).message}` };
  }
}

function setAt(raw: Tree, path: readonly string[], value: unknown): void {
  let node = raw;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (isPlainObject(next)) {
      node = next;
    } else {
      const created: Tree = {};
      node[key] = created;
      node = created;
    }
  }
  const last = path[path.length - 1] as string;
  const existing = node[last];
  node[last] = isPlainObject(existing) && isPlainObject(value) ? deepMerge(existing, value) : value;
}

function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}
