// The demo chat page served at `/` by the embedded server: public/index.html, demo.js and
// demo.css from this package, and the centrifuge-js browser bundle from the installed npm package
// (no CDN: the page makes no request outside this server).
//
// The page learns one fact from the server, rendered into the HTML: whether anonymous connections
// are allowed (then it connects at once; otherwise it asks for a connection token). No secret,
// key or other configuration value ever reaches it.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTENT_TYPES, contentVersion } from './static.ts';
import type { StaticAsset } from './static.ts';

const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

/** The page's security headers: only this origin, no inline code, no framing. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface DemoOptions {
  /** client.allow_anonymous_connect_without_token (or client.insecure). */
  anonymous: boolean;
  /** Channel the page joins by default. */
  channel: string;
}

/** The directory of the installed `centrifuge` package (its exports map hides dist/). */
export function centrifugePackageDir(): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve('centrifuge'));
  for (let i = 0; i < 5; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'centrifuge') return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot locate the installed centrifuge package');
}

function file(path: string, immutable: boolean): StaticAsset {
  const type = CONTENT_TYPES[extname(path)];
  if (type === undefined) throw new Error(`no content type for ${path}`);
  return { body: readFileSync(path), contentType: type, immutable };
}

function escapeAttr(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** URL path → asset, `/` being the rendered page. */
export function demoAssets(opts: DemoOptions): Map<string, StaticAsset> {
  const sdkDir = join(centrifugePackageDir(), 'dist');
  const assets = new Map<string, StaticAsset>([
    ['/demo/demo.js', file(join(PUBLIC_DIR, 'demo.js'), true)],
    ['/demo/demo.css', file(join(PUBLIC_DIR, 'demo.css'), true)],
    ['/demo/centrifuge.js', file(join(sdkDir, 'centrifuge.js'), true)],
    // The bundle names its source map relatively; devtools fetch it from here.
    ['/demo/centrifuge.js.map', file(join(sdkDir, 'centrifuge.js.map'), false)],
  ]);
  const link = (path: string): string => `${path}?v=${contentVersion((assets.get(path) as StaticAsset).body)}`;
  const values: Record<string, string> = {
    anonymous: String(opts.anonymous),
    channel: opts.channel,
    css: link('/demo/demo.css'),
    sdk: link('/demo/centrifuge.js'),
    js: link('/demo/demo.js'),
  };
  const template = readFileSync(join(PUBLIC_DIR, 'index.html'), 'utf8');
  const html = template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`index.html: unknown placeholder ${whole}`);
    return escapeAttr(v);
  });
  assets.set('/', {
    body: Buffer.from(html),
    contentType: CONTENT_TYPES['.html'] as string,
    immutable: false,
    headers: { 'Content-Security-Policy': PAGE_CSP, 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' },
  });
  return assets;
}
