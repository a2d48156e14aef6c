// Walks the schema over a raw (file + environment) tree and writes typed values into the decoded
// configuration, which starts as the defaults. Every type and range problem is recorded; decoding
// continues past problems so one run reports all of them.
import { createPublicKey } from 'node:crypto';
import { compileGoRegex } from '../channels.ts';
import { parseDuration } from './duration.ts';
import { describe, joinPath, type Problems } from './problems.ts';
import { namespaceOptionFields, propName, v5Hints, type Field, type StringCheck } from './schema.ts';

export type Tree = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The defaults of a set of fields, as decoded properties. */
export function defaultsOf(fields: Readonly<Record<string, Field>>): Tree {
  const out: Tree = {};
  for (const [key, field] of Object.entries(fields)) {
    switch (field.kind) {
      case 'ignored':
        break;
      case 'object':
        out[propName(key, field)] = defaultsOf(field.fields);
        break;
      case 'namespaces':
      case 'objects':
        out[propName(key, field)] = [];
        break;
      case 'stringMap':
        out[propName(key, field)] = {};
        break;
      case 'strings':
        out[propName(key, field)] = [...field.def];
        break;
      case 'unixSeconds':
        out[propName(key, field)] = field.def * 1000;
        break;
      default:
        out[propName(key, field)] = field.def;
    }
  }
  return out;
}

/** Decodes `raw` (an object of file keys) into `target` (decoded properties) following `fields`. */
export function decodeObject(
  fields: Readonly<Record<string, Field>>,
  raw: unknown,
  path: string,
  target: Tree,
  problems: Problems,
): void {
  if (!isPlainObject(raw)) {
    problems.error(path === '' ? '(root)' : path, `expected an object, got ${describe(raw)}`);
    return;
  }
  for (const [key, value] of Object.entries(raw)) {
    const field = fields[key];
    const keyPath = joinPath(path, key);
    if (field === undefined) {
      const hint = path === '' ? v5Hints[key] : undefined;
      problems.warn(keyPath, hint === undefined ? 'unknown key, ignored' : `unknown key, ignored (a Centrifugo v5 name? v6 uses ${hint})`);
      continue;
    }
    decodeField(key, field, value, keyPath, target, problems);
  }
}

function decodeField(key: string, field: Field, value: unknown, path: string, target: Tree, problems: Problems): void {
  if (field.kind === 'ignored') {
    const quiet = field.quietWhen?.(value) ?? false;
    if (!quiet && !isOff(value)) problems.warn(path, `not supported by Rotor, ignored${field.why === undefined ? '' : ` (${field.why})`}`);
    return;
  }
  // JSON null / an empty YAML value leaves the default, as Go's decoder does.
  if (value === null) return;
  const prop = propName(key, field);
  switch (field.kind) {
    case 'string': {
      if (typeof value !== 'string') return problems.error(path, `expected a string, got ${describe(value)}`);
      if (field.oneOf !== undefined && !field.oneOf.includes(value)) {
        return problems.error(path, `must be one of ${field.oneOf.map((v) => JSON.stringify(v)).join(', ')}; got ${JSON.stringify(value)}`);
      }
      if (field.check === 'nonEmpty' && value === '') return problems.error(path, 'must not be empty');
      if (field.check !== undefined && value !== '') {
        const msg = checkString(field.check, value);
        if (msg !== null) return problems.error(path, msg);
      }
      target[prop] = value;
      return;
    }
    case 'bool':
      if (typeof value !== 'boolean') return problems.error(path, `expected true or false, got ${describe(value)}`);
      target[prop] = value;
      return;
    case 'int': {
      if (typeof value !== 'number' || !Number.isInteger(value)) return problems.error(path, `expected an integer, got ${describe(value)}`);
      if (value < field.min) return problems.error(path, `must be >= ${field.min}, got ${value}`);
      if (field.max !== undefined && value > field.max) return problems.error(path, `must be <= ${field.max}, got ${value}`);
      target[prop] = value;
      return;
    }
    case 'unixSeconds': {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        return problems.error(path, `expected a Unix timestamp in seconds (integer >= 0), got ${describe(value)}`);
      }
      target[prop] = value * 1000;
      return;
    }
    case 'duration': {
      const ms = decodeDuration(value, path, problems);
      if (ms === null) return;
      if (field.wholeSeconds === true && ms % 1000 !== 0) {
        return problems.error(path, `sub-second precision is not supported for this key, got ${JSON.stringify(value)}`);
      }
      target[prop] = ms;
      return;
    }
    case 'strings': {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
        return problems.error(path, `expected a list of strings, got ${describe(value)}`);
      }
      const bad = field.oneOf === undefined ? [] : value.filter((v) => !field.oneOf?.includes(v));
      if (bad.length > 0) {
        return problems.error(path, `unknown value(s) ${bad.map((v) => JSON.stringify(v)).join(', ')}; allowed: ${field.oneOf?.map((v) => JSON.stringify(v)).join(', ')}`);
      }
      target[prop] = [...(value as string[])];
      return;
    }
    case 'object': {
      const sub = target[prop];
      if (!isPlainObject(sub)) throw new Error(`config schema: no defaults at ${path}`);
      decodeObject(field.fields, value, path, sub, problems);
      return;
    }
    case 'objects': {
      if (!Array.isArray(value)) return problems.error(path, `expected a list of objects, got ${describe(value)}`);
      const list: Tree[] = [];
      value.forEach((item, i) => {
        const itemPath = `${path}[${i}]`;
        // Every item keeps its slot so later checks report the same indices as the file.
        const decoded = defaultsOf(field.fields);
        list.push(decoded);
        decodeObject(field.fields, item, itemPath, decoded, problems);
      });
      target[prop] = list;
      return;
    }
    case 'stringMap': {
      if (!isPlainObject(value)) return problems.error(path, `expected an object of strings, got ${describe(value)}`);
      const map: Record<string, string> = {};
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') return problems.error(`${path}.${k}`, `expected a string, got ${describe(v)}`);
        map[k] = v;
      }
      target[prop] = map;
      return;
    }
    case 'namespaces': {
      if (!Array.isArray(value)) return problems.error(path, `expected a list of namespace objects, got ${describe(value)}`);
      const list: Tree[] = [];
      value.forEach((item, i) => {
        const itemPath = `${path}[${i}]`;
        // Every item keeps its slot so later checks report the same indices as the file.
        const ns: Tree = { name: '', ...defaultsOf(namespaceOptionFields) };
        list.push(ns);
        if (!isPlainObject(item)) return problems.error(itemPath, `expected a namespace object, got ${describe(item)}`);
        const { name, ...options } = item;
        if (name === undefined || name === null) problems.error(`${itemPath}.name`, 'missing: every namespace needs a name');
        else if (typeof name !== 'string') problems.error(`${itemPath}.name`, `expected a string, got ${describe(name)}`);
        else ns['name'] = name;
        decodeObject(namespaceOptionFields, options, itemPath, ns, problems);
      });
      target[prop] = list;
      return;
    }
  }
}

function decodeDuration(value: unknown, path: string, problems: Problems): number | null {
  if (typeof value === 'number') {
    // 0 means the same in every unit; any other bare number is a unit guess (Go reads nanoseconds).
    if (value === 0) return 0;
    problems.error(path, `bare number ${value} is not a duration: write it with a unit, e.g. "${value}s" or "${value}ms"`);
    return null;
  }
  if (typeof value !== 'string') {
    problems.error(path, `expected a duration string such as "25s", got ${describe(value)}`);
    return null;
  }
  const ms = parseDuration(value);
  if (ms === null) {
    const bare = /^\s*[+-]?\d+(\.\d+)?\s*$/.test(value);
    problems.error(
      path,
      bare
        ? `"${value}" has no unit: write e.g. "${value.trim()}s" or "${value.trim()}ms"`
        : `invalid duration ${JSON.stringify(value)} (use Go syntax such as "500ms", "25s", "1m30s", "720h")`,
    );
    return null;
  }
  if (ms < 0) {
    problems.error(path, `must not be negative, got ${JSON.stringify(value)}`);
    return null;
  }
  return ms;
}

/** An "off" value of an ignored option: setting it changes nothing, so no warning is due. */
function isOff(value: unknown): boolean {
  if (value === null || value === false || value === '' || value === 0) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value)) return Object.values(value).every(isOff);
  return false;
}

const claimNamePattern = /^[a-zA-Z_]+$/;
const streamNamePattern = /^[A-Za-z0-9_-]{1,32}$/;
const natsUrlPattern = /^(nats|tls|ws|wss):\/\/[^\s,]+$|^[^\s,/:]+:\d+$/;

function checkString(check: StringCheck, value: string): string | null {
  switch (check) {
    case 'nonEmpty':
      return null; // the caller rejects ''
    case 'regex':
      // The same compilation the server uses (Go RE2 syntax such as (?P<name>…) is translated).
      try {
        compileGoRegex(value);
        return null;
      } catch (err) {
        const cause = (err as Error).cause;
        return `invalid regular expression ${JSON.stringify(value)}: ${cause instanceof Error ? cause.message : (err as Error).message}`;
      }
    case 'rsaPem':
      return checkPem(value, ['rsa'], 'an RSA public key');
    case 'ecPem':
      return checkPem(value, ['ec'], 'an ECDSA public key');
    case 'httpUrl': {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return `not a valid URL: ${JSON.stringify(value)}`;
      }
      return url.protocol === 'http:' || url.protocol === 'https:' ? null : `must be an http(s) URL, got ${JSON.stringify(value)}`;
    }
    case 'natsUrls': {
      const bad = value.split(',').map((s) => s.trim()).filter((s) => !natsUrlPattern.test(s));
      return bad.length === 0 ? null : `not a NATS URL list (e.g. "nats://127.0.0.1:4222,nats://host2:4222"): ${bad.map((b) => JSON.stringify(b)).join(', ')}`;
    }
    case 'claimName':
      return claimNamePattern.test(value) ? null : `must match ${claimNamePattern.source}, got ${JSON.stringify(value)}`;
    case 'streamName':
      return streamNamePattern.test(value) ? null : `must match ${streamNamePattern.source} (a JetStream stream name prefix), got ${JSON.stringify(value)}`;
  }
}

function checkPem(value: string, types: readonly string[], what: string): string | null {
  try {
    const key = createPublicKey(value);
    if (!types.includes(key.asymmetricKeyType ?? '')) return `expected ${what} (PEM), got a ${key.asymmetricKeyType ?? 'unknown'} key`;
    return null;
  } catch (err) {
    return `not ${what} in PEM form: ${(err as Error).message}`;
  }
}
