// Structured logs: one JSON object per line on stderr, {"time","level","msg",...fields}.
//
// - Levels debug < info < warn < error. Methods of disabled levels are no-op functions bound at
//   construction, so `log.debug(...)` on a disabled level does no work beyond the call; build
//   expensive fields lazily (`log.debug('x', () => ({...}))`) or guard with `log.debugEnabled`.
// - `child(fields)` returns a logger that adds fixed fields (node, role, client id…) to each line.
// - Secret-looking keys are redacted at any depth: names containing "key", "secret", "password",
//   "passwd", "authorization" or "cookie", or ending in "token". Redaction is by key name, so
//   never log a secret under an innocent name.
import type { Clock } from './types.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;
/** Fields, or a function producing them (called only when the level is enabled). */
export type LogFieldsArg = LogFields | (() => LogFields);
export type LogMethod = (msg: string, fields?: LogFieldsArg) => void;

export interface Logger {
  readonly level: LogLevel;
  /** True when debug lines are written: guard costly debug-only work with it. */
  readonly debugEnabled: boolean;
  readonly debug: LogMethod;
  readonly info: LogMethod;
  readonly warn: LogMethod;
  readonly error: LogMethod;
  /** A logger writing the same way with `fields` added to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Receives each complete line (with its trailing newline). Default: process.stderr. */
  write?: (line: string) => void;
  clock?: Clock;
  /** Fixed fields on every line. */
  fields?: LogFields;
}

const rank: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };
const noop: LogMethod = () => undefined;
const REDACTED = '[REDACTED]';
const secretKey = /key|secret|passw(or)?d|authorization|cookie|token$/i;

export function isSecretKey(key: string): boolean {
  return secretKey.test(key);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  return new JsonLogger(options.level ?? 'info', write, options.clock ?? Date, options.fields ?? {});
}

/** A logger that writes nothing (tests, embedded helpers). */
export function silentLogger(): Logger {
  return createLogger({ level: 'error', write: () => undefined });
}

class JsonLogger implements Logger {
  readonly debugEnabled: boolean;
  readonly debug: LogMethod;
  readonly info: LogMethod;
  readonly warn: LogMethod;
  readonly error: LogMethod;

  constructor(
    readonly level: LogLevel,
    private readonly write: (line: string) => void,
    private readonly clock: Clock,
    private readonly fixed: LogFields,
  ) {
    const min = rank[level];
    this.debugEnabled = min <= rank.debug;
    this.debug = this.debugEnabled ? (msg, f) => this.emit('debug', msg, f) : noop;
    this.info = min <= rank.info ? (msg, f) => this.emit('info', msg, f) : noop;
    this.warn = min <= rank.warn ? (msg, f) => this.emit('warn', msg, f) : noop;
    this.error = (msg, f) => this.emit('error', msg, f);
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.level, this.write, this.clock, { ...this.fixed, ...fields });
  }

  private emit(level: LogLevel, msg: string, fieldsArg: LogFieldsArg | undefined): void {
    const fields = typeof fieldsArg === 'function' ? fieldsArg() : fieldsArg;
    const record: Record<string, unknown> = { time: '', level, msg, ...this.fixed, ...fields };
    // Fields cannot impersonate the envelope; the keys keep their leading position.
    record['time'] = new Date(this.clock.now()).toISOString();
    record['level'] = level;
    record['msg'] = msg;
    this.write(`${serialise(record)}\n`);
  }
}

function replacer(key: string, value: unknown): unknown {
  if (key !== '' && secretKey.test(key)) return REDACTED;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }), stack: value.stack };
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  // Buffer.toJSON runs before the replacer.
  if (typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return `<${(value as { data: unknown[] }).data.length} bytes>`;
  }
  return value;
}

function serialise(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record, replacer);
  } catch (err) {
    // Cycles (TypeError) are the only expected failure: write the line anyway, marking them.
    if (!(err instanceof TypeError)) throw err;
    const ancestors: unknown[] = [];
    return JSON.stringify(record, function (this: unknown, key: string, value: unknown) {
      const v = replacer(key, value);
      if (typeof v !== 'object' || v === null) return v;
      while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
      if (ancestors.includes(v)) return '[Circular]';
      ancestors.push(v);
      return v;
    });
  }
}
