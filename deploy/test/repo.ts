// Paths and small readers shared by the deploy/ and helm/ tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/** Absolute path of the repository root. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export function repoPath(relative: string): string {
  return `${repoRoot}${relative}`;
}

export function readText(relative: string): string {
  return readFileSync(repoPath(relative), 'utf8');
}

/** Parses a YAML file of the repository, resolving `<<` merge keys (compose anchors). */
export function readYaml(relative: string): unknown {
  return parseYaml(readText(relative), { merge: true, uniqueKeys: true });
}

export function readJson(relative: string): unknown {
  return JSON.parse(readText(relative)) as unknown;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` as a record, or a thrown error naming `what` (for fixtures whose shape we assert). */
export function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new Error(`${what}: expected an object, got ${JSON.stringify(value)}`);
  return value;
}
