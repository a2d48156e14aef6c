// Origin check for WebSocket upgrades (PROTOCOL.md §1.3), as Centrifugo does it: a request without
// an Origin header is always allowed (non-browser clients); a request with one is allowed only when
// it matches an entry of `client.allowed_origins`. Entries are case-insensitive globs where `*`
// matches any run of characters ("https://*.example.com"); a lone "*" allows every origin.

export type OriginCheck = (origin: string) => boolean;

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`);
}

/** Builds the check once from the configured patterns. */
export function originChecker(allowedOrigins: readonly string[]): OriginCheck {
  if (allowedOrigins.includes('*')) return () => true;
  const exact = new Set<string>();
  const globs: RegExp[] = [];
  for (const p of allowedOrigins) {
    if (p.includes('*')) globs.push(globToRegExp(p));
    else exact.add(p.toLowerCase());
  }
  return (origin: string): boolean => {
    if (origin === '') return true;
    const o = origin.toLowerCase();
    if (exact.has(o)) return true;
    for (const g of globs) if (g.test(o)) return true;
    return false;
  };
}
