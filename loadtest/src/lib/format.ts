// Number formatting and plain-text tables for the terminal.

export function fmtRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toFixed(0)}k`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k`;
  return perSecond.toFixed(0);
}

export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return '-';
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)}s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(us >= 1e5 ? 0 : 2)}ms`;
  return `${us.toFixed(0)}µs`;
}

export function fmtBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '-';
  const abs = Math.abs(bytes);
  if (abs >= 1024 * 1024 * 1024) return `${(bytes / 1024 ** 3).toFixed(2)}GB`;
  if (abs >= 1024 * 1024) return `${(bytes / 1024 ** 2).toFixed(1)}MB`;
  if (abs >= 1024) return `${(bytes / 1024).toFixed(1)}KB`;
  return `${bytes.toFixed(0)}B`;
}

export function fmtPct(p: number): string {
  return Number.isFinite(p) ? `${p.toFixed(0)}%` : '-';
}

export function fmtRatio(r: number): string {
  if (!Number.isFinite(r)) return '-';
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/** Renders rows as an aligned table (first column left-aligned, the rest right-aligned). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
