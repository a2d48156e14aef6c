// What every scenario shares: options common to all, starting and stopping a target with its own
// temporary directory, and the result envelope.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningTarget, ScenarioName, TargetFactory } from '../target.ts';

export interface CommonOptions {
  /** Requested wire format for targets that speak several ("json" | "protobuf"). */
  format: string;
  payloadSize: number;
  /** Measurement time per phase (ms). */
  durationMs: number;
  warmupMs: number;
  /** Where progress lines go (one per second); defaults to stderr. */
  log(line: string): void;
}

/** A scenario that a target does not support, or that failed, appears in the report with why. */
export interface SkippedRun {
  target: string;
  skipped: string;
}

export function isSkipped(r: object): r is SkippedRun {
  return typeof (r as { skipped?: unknown }).skipped === 'string';
}

export function supports(factory: TargetFactory, scenario: ScenarioName): string | null {
  if (!factory.scenarios.includes(scenario)) return `${factory.name} does not implement the ${scenario} scenario`;
  return factory.unavailable();
}

/** Starts a target, runs fn, and always stops the target and removes its temp dir. */
export async function withTarget<T>(factory: TargetFactory, opts: CommonOptions & { maxWindow: number }, fn: (t: RunningTarget) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `rotor-loadtest-${factory.name}-`));
  let target: RunningTarget | null = null;
  try {
    target = await factory.start({ format: opts.format, payloadSize: opts.payloadSize, maxWindow: opts.maxWindow, tmpDir: dir, log: opts.log });
    return await fn(target);
  } finally {
    try {
      await target?.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
