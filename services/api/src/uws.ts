// Loads uWebSockets.js for the api role's own HTTP server, refusing its slow JavaScript fallback:
// the package catches a failed native load and silently returns a reimplementation, which would
// look healthy and behave differently. Only the native addon has these exports.
import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';

export type UwsModule = typeof Uws;

export function loadNativeUws(): UwsModule {
  const require = createRequire(import.meta.url);
  const mod = require('uWebSockets.js') as Record<string, unknown>;
  if (typeof mod['App'] !== 'function' || typeof mod['getParts'] !== 'function' || typeof mod['SHARED_COMPRESSOR'] !== 'number') {
    throw new Error(
      `uWebSockets.js native binary did not load (${process.platform}-${process.arch}, node ABI ${process.versions.modules}); ` +
        'refusing to run on the JavaScript fallback',
    );
  }
  return mod as unknown as UwsModule;
}
