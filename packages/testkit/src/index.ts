// @rotor/testkit: helpers for integration and end-to-end tests.
export * from './latch.ts';
export * from './nats-server.ts';
