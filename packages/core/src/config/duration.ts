// Go-style duration strings ("300ms", "25s", "1m30s", "720h"), the format Centrifugo config files
// use. Parsed to milliseconds. Bare numbers are rejected by the loader: Go would read them as
// nanoseconds, which is never what a config author meant.

const unitMs: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const segment = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/**
 * Parses a Go duration string into milliseconds. Returns null when the text is not a valid Go
 * duration ("0" alone is valid, as in Go; any other number needs a unit). Negative values parse;
 * range checks belong to the caller.
 */
export function parseDuration(text: string): number | null {
  let rest = text.trim();
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return null;
  let total = 0;
  while (rest.length > 0) {
    const m = segment.exec(rest);
    if (m === null) return null;
    const unit = unitMs[m[2] as string];
    if (unit === undefined) return null;
    total += Number(m[1]) * unit;
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

/** Formats milliseconds as a compact Go-style duration ("25s", "1m30s", "720h", "500ms"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  const parts: string[] = [];
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (rest >= size) {
      const n = Math.floor(rest / size);
      parts.push(`${n}${unit}`);
      rest -= n * size;
    }
  }
  if (rest > 0) parts.push(`${Number(rest.toFixed(6))}ms`);
  return sign + parts.join('');
}
