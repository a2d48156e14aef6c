// @rotor/testkit: helpers for integration and end-to-end tests.
export * from './latch.ts';
