// Collects every problem and warning of one load, each prefixed with its key path, so the loader
// can report all of them at once. Values that came from the environment are labelled with the
// variable that set them.

/** Thrown by loadConfig; the message lists every problem, one per line, each with its key path. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    const n = problems.length;
    super(`invalid configuration (${n} problem${n === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export class Problems {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  /** Key path → environment variable that supplied the value at (or above) that path. */
  private readonly origins = new Map<string, string>();
  private readonly failedPaths = new Set<string>();

  setOrigin(path: string, envName: string): void {
    this.origins.set(path, envName);
  }

  error(path: string, message: string): void {
    this.failedPaths.add(path);
    this.errors.push(`${path}${this.originOf(path)}: ${message}`);
  }

  warn(path: string, message: string): void {
    this.warnings.push(`${path}${this.originOf(path)}: ${message}`);
  }

  /** Whether every path decoded cleanly (cross-key rules skip values that already failed). */
  clean(...paths: string[]): boolean {
    return paths.every((p) => !this.failedPaths.has(p));
  }

  private originOf(path: string): string {
    let best = '';
    let name = '';
    for (const [p, env] of this.origins) {
      const covers = path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`);
      if (covers && p.length >= best.length) {
        best = p;
        name = env;
      }
    }
    return name === '' ? '' : ` (from ${name})`;
  }
}

export function joinPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** A short description of a value for error messages (type plus a bounded preview). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}
