// Test support: the parsed schemas (protobufjs reflection, used as an independent oracle) and
// fast-check arbitraries that build random messages in our generated representation.
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const protoDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let cachedRoot: protobuf.Root | undefined;

/** protobufjs reflection of every proto/*.proto (keepCase: snake_case field names). */
export function oracleRoot(): protobuf.Root {
  if (cachedRoot) return cachedRoot;
  const root = new protobuf.Root();
  for (const f of readdirSync(protoDir).filter((n) => n.endsWith('.proto')).sort()) {
    protobuf.parse(readFileSync(join(protoDir, f), 'utf8'), root, { keepCase: true });
  }
  root.resolveAll();
  cachedRoot = root;
  return root;
}

export function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

export interface ArbitraryOptions {
  /** Bytes fields hold JSON values (needed for the JSON encoding of the Centrifugo packages). */
  readonly jsonBytes: boolean;
  readonly maxDepth?: number;
}

const enc = new TextEncoder();

function scalarArb(type: string, opts: ArbitraryOptions): fc.Arbitrary<unknown> {
  switch (type) {
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case 'uint32':
    case 'fixed32':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return fc.oneof(fc.maxSafeInteger(), fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 32, -(2 ** 32), -1));
    case 'uint64':
    case 'fixed64':
      return fc.oneof(fc.maxSafeNat(), fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 32, 2 ** 32 - 1, 128));
    case 'bool':
      return fc.boolean();
    case 'string':
      return fc.string({ unit: 'binary', maxLength: 12 });
    case 'double':
      return fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d));
    case 'float':
      return fc.float({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : Math.fround(d)));
    case 'bytes':
      return opts.jsonBytes
        ? // A raw `null` decodes as an absent field (as in Centrifugo), so it cannot round-trip.
          fc.json({ maxDepth: 2 }).filter((s) => s !== 'null').map((s) => enc.encode(s))
        : fc.uint8Array({ maxLength: 16 });
    default:
      throw new Error(`no arbitrary for ${type}`);
  }
}

const cache = new Map<string, fc.Arbitrary<Record<string, unknown>>>();

/** Random messages of `type` in the generated representation (camelCase keys, numbers, Uint8Array). */
export function messageArb(type: protobuf.Type, opts: ArbitraryOptions, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const maxDepth = opts.maxDepth ?? 3;
  const key = `${type.fullName}|${opts.jsonBytes}|${depth}|${maxDepth}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of type.fieldsArray) {
    let value: fc.Arbitrary<unknown>;
    const resolved = f.resolvedType;
    const single = (): fc.Arbitrary<unknown> | null => {
      if (resolved instanceof protobuf.Type) {
        if (depth >= maxDepth) return null;
        return messageArb(resolved, opts, depth + 1);
      }
      if (resolved instanceof protobuf.Enum) return fc.constantFrom(...Object.values(resolved.values));
      return scalarArb(f.type, opts);
    };
    const one = single();
    if (one === null) continue;
    if (f.map) {
      value = fc
        .array(fc.tuple(fc.string({ maxLength: 6 }), one), { maxLength: 3 })
        .map((entries) => {
          const o = Object.create(null) as Record<string, unknown>;
          for (const [k, v] of entries) o[k] = v;
          return o;
        });
    } else if (f.repeated) {
      value = fc.array(one, { maxLength: 3 });
    } else value = one;
    parts[camel(f.name)] = value;
  }
  const arb = fc.record(parts, { requiredKeys: [] });
  cache.set(key, arb);
  return arb;
}
