// Loads the native uWebSockets.js binary directly. The package silently falls back to a slow
// JavaScript implementation when the binary does not load; a benchmark must never measure that, so
// a missing or incompatible binary is an error here.
import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';

const require = createRequire(import.meta.url);

export type UwsModule = typeof Uws;

export function loadNativeUws(): UwsModule {
  const name = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  try {
    return require(`uWebSockets.js/binaries/${name}`) as UwsModule;
  } catch (err) {
    throw new Error(`native uWebSockets.js binary ${name} failed to load (the JS fallback is not accepted): ${(err as Error).message}`, { cause: err });
  }
}
