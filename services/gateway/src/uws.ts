// Loads uWebSockets.js and refuses to run on its slow JavaScript fallback.
//
// The package (trufflesuite's build of uWS v20.30) catches a failed native load, prints a warning
// and silently returns a `ws`-based reimplementation with different backpressure and topic
// semantics. A gateway on that fallback would look healthy and behave differently, so we check for
// exports that only the native addon has and fail at start-up instead.
import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';

export type UwsModule = typeof Uws;
export type { TemplatedApp, WebSocket, HttpRequest, HttpResponse, us_listen_socket } from 'uWebSockets.js';

let cached: UwsModule | null = null;

/** Whether `mod` is the native addon (the fallback lacks these exports). */
export function isNativeUws(mod: unknown): boolean {
  const m = mod as Record<string, unknown> | null;
  return (
    m !== null &&
    typeof m === 'object' &&
    typeof m['App'] === 'function' &&
    typeof m['getParts'] === 'function' &&
    typeof m['SHARED_COMPRESSOR'] === 'number'
  );
}

/** The native uWebSockets.js module; throws when only the fallback could be loaded. */
export function loadUws(): UwsModule {
  if (cached !== null) return cached;
  const require = createRequire(import.meta.url);
  const mod: unknown = require('uWebSockets.js');
  if (!isNativeUws(mod)) {
    throw new Error(
      `uWebSockets.js native binary did not load (platform ${process.platform}-${process.arch}, ` +
        `node ABI ${process.versions.modules}); refusing to run on the JavaScript fallback`,
    );
  }
  cached = mod as UwsModule;
  return cached;
}
