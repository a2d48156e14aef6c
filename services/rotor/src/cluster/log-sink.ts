// Where the local cluster's process output goes: one line stream on the supervisor's stdout,
// each line prefixed with the process name (coloured on a terminal), and one file per process
// under <dir>/logs/<name>.log holding the lines as the process wrote them.
// Rotor's JSON log lines are shown compactly on the terminal ("12:00:01.234 info  msg k=v");
// the files keep the JSON.
import { createWriteStream, mkdirSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { join } from 'node:path';

const COLOURS = [36, 33, 35, 32, 34, 96, 93, 95, 92, 94];
const RESET = '\x1b[0m';

export interface LogSinkOptions {
  dir: string;
  write: (text: string) => void;
  colour: boolean;
}

export class LogSink {
  private readonly files = new Map<string, WriteStream>();
  private readonly colours = new Map<string, number>();
  private width = 9;

  constructor(private readonly opts: LogSinkOptions) {
    mkdirSync(opts.dir, { recursive: true });
  }

  /** Registers a process name (fixes its colour and the prefix width); truncates its file. */
  add(name: string): void {
    if (this.files.has(name)) return;
    this.colours.set(name, COLOURS[this.colours.size % COLOURS.length] as number);
    this.width = Math.max(this.width, name.length);
    const file = createWriteStream(join(this.opts.dir, `${name}.log`), { flags: 'w' });
    file.on('error', (err) => this.opts.write(`cluster: cannot write ${name}.log: ${err.message}\n`));
    this.files.set(name, file);
  }

  fileOf(name: string): string {
    return join(this.opts.dir, `${name}.log`);
  }

  line(name: string, text: string): void {
    this.files.get(name)?.write(`${text}\n`);
    const prefix = name.padEnd(this.width);
    const shown = compact(text);
    const colour = this.colours.get(name);
    this.opts.write(this.opts.colour && colour !== undefined ? `\x1b[${colour}m${prefix} |${RESET} ${shown}\n` : `${prefix} | ${shown}\n`);
  }

  close(): Promise<void> {
    const all = [...this.files.values()].map((f) => new Promise<void>((resolve) => f.end(resolve)));
    this.files.clear();
    return Promise.all(all).then(() => undefined);
  }
}

/** A Rotor JSON log line as "time level msg k=v …"; anything else unchanged. */
export function compact(text: string): string {
  if (!text.startsWith('{"time"')) return text;
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not one JSON object after all: show it as it is.
    return text;
  }
  const { time, level, msg, role: _role, node: _node, ...rest } = rec;
  const clock = typeof time === 'string' ? time.slice(11, 23) : '';
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) || v === '' ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
    .join(' ');
  return `${clock} ${String(level).padEnd(5)} ${String(msg)}${fields === '' ? '' : ` ${fields}`}`;
}
