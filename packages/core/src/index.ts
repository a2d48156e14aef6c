// Public surface of @rotor/core.
export * from './types.ts';
export * from './codes.ts';
export type * from './broker.ts';
export type * from './history-store.ts';
export type * from './presence-store.ts';
export type * from './publisher.ts';
export type * from './control-bus.ts';
export type * from './config/types.ts';
export type * from './auth/token-verifier.ts';
export * from './config/load.ts';
export * from './config/duration.ts';
export * from './auth/jose-token-verifier.ts';
export * from './auth/api-key.ts';
export * from './auth/token-signer.ts';
export * from './log.ts';
