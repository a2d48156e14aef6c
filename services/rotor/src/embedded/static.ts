// Static files on a uWebSockets.js app, from a fixed table built at start-up.
//
// Each asset is read into memory once, with its content type, a strong ETag (a hash of the bytes)
// and, for text types, a gzip variant. URLs are the table's keys and nothing else: no request path
// is ever joined to a directory, so there is nothing to traverse. Caching:
// - pages (`immutable: false`) are revalidated on every use: `Cache-Control: no-cache` + ETag → 304;
// - assets (`immutable: true`) are referenced with `?v=<version>`; a request carrying the current
//   version is cacheable for a year, any other request is revalidated like a page.
// Only GET and HEAD are answered (405 otherwise).
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { HttpRequest, HttpResponse, TemplatedApp } from '@rotor/gateway';

export interface StaticAsset {
  readonly body: Buffer;
  readonly contentType: string;
  /** True for versioned assets (cached for a year when requested with `?v=<version>`). */
  readonly immutable: boolean;
  /** Extra response headers (e.g. a Content-Security-Policy for pages). */
  readonly headers?: Readonly<Record<string, string>>;
}

interface Prepared {
  readonly asset: StaticAsset;
  readonly version: string;
  readonly etag: string;
  readonly gzip: Buffer | null;
  readonly gzipEtag: string;
}

const COMPRESSIBLE = /^(text\/|application\/(javascript|json))/;
const YEAR = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** Content types by file extension, for the files we serve. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

/** A short content hash: the `?v=` value and the ETag. */
export function contentVersion(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('base64url').slice(0, 16);
}

function prepare(asset: StaticAsset): Prepared {
  const version = contentVersion(asset.body);
  let gzip: Buffer | null = null;
  if (COMPRESSIBLE.test(asset.contentType) && asset.body.length >= 1024) {
    const z = gzipSync(asset.body, { level: 9 });
    if (z.length < asset.body.length) gzip = z;
  }
  return { asset, version, etag: `"${version}"`, gzip, gzipEtag: `"${version}-gz"` };
}

function acceptsGzip(header: string): boolean {
  // "gzip;q=0" refuses it; anything else naming gzip (or *) accepts it.
  for (const part of header.toLowerCase().split(',')) {
    const [coding, ...params] = part.trim().split(';');
    if (coding !== 'gzip' && coding !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

function etagMatches(header: string, etag: string): boolean {
  if (header === '') return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === etag || tag === `W/${etag}`;
  });
}

/** Mounts every asset at its path; returns the `?v=` version of each path (for links in pages). */
export function mountStatic(app: TemplatedApp, assets: ReadonlyMap<string, StaticAsset>): Map<string, string> {
  const versions = new Map<string, string>();
  for (const [path, asset] of assets) {
    if (!path.startsWith('/') || path.includes('*') || path.includes(':')) throw new Error(`static path must be a plain absolute path: ${path}`);
    const p = prepare(asset);
    versions.set(path, p.version);
    app.any(path, (res, req) => serve(res, req, p));
  }
  return versions;
}

function serve(res: HttpResponse, req: HttpRequest, p: Prepared): void {
  const method = req.getMethod();
  if (method !== 'get' && method !== 'head') {
    res.writeStatus('405 Method Not Allowed').writeHeader('Allow', 'GET, HEAD').end();
    return;
  }
  const gzip = p.gzip !== null && acceptsGzip(req.getHeader('accept-encoding'));
  const etag = gzip ? p.gzipEtag : p.etag;
  const cacheControl = p.asset.immutable && req.getQuery('v') === p.version ? YEAR : REVALIDATE;
  const notModified = etagMatches(req.getHeader('if-none-match'), etag);

  res.writeStatus(notModified ? '304 Not Modified' : '200 OK');
  res.writeHeader('ETag', etag);
  res.writeHeader('Cache-Control', cacheControl);
  res.writeHeader('X-Content-Type-Options', 'nosniff');
  if (p.gzip !== null) res.writeHeader('Vary', 'Accept-Encoding');
  if (notModified) {
    res.endWithoutBody();
    return;
  }
  res.writeHeader('Content-Type', p.asset.contentType);
  for (const [name, value] of Object.entries(p.asset.headers ?? {})) res.writeHeader(name, value);
  if (gzip) res.writeHeader('Content-Encoding', 'gzip');
  const body = gzip ? (p.gzip as Buffer) : p.asset.body;
  if (method === 'head') {
    // uWS v20.30 aborts the process on endWithoutBody(length): report the length by hand.
    res.writeHeader('Content-Length', String(body.length));
    res.endWithoutBody();
  } else {
    res.end(body);
  }
}

/** The last route: 404 for every path no other route took (uWS would drop the request silently). */
export function mountNotFound(app: TemplatedApp): void {
  app.any('/*', (res, req) => {
    res.writeStatus('404 Not Found').writeHeader('Content-Type', 'text/plain; charset=utf-8');
    if (req.getMethod() === 'head') res.endWithoutBody();
    else res.end('Not Found\n');
  });
}
