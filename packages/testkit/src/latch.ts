// Latches, deferreds, wait-for-condition and collectors for tests (no sleeps as synchronisation).
// The implementation lives in @rotor/core/testing, where the contract suites need it without a
// dependency cycle (testkit depends on core); this module is the name the other packages use.
export { Collector, DEFAULT_WAIT_MS, Latch, WaitTimeoutError, deferred, waitFor, withDeadline } from '@rotor/core/testing';
export type { Deferred, WaitForOptions } from '@rotor/core/testing';
