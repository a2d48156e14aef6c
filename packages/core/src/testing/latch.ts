// Synchronisation helpers for tests: wait for events with a deadline instead of sleeping.
//
// - `deferred()` — a promise with its resolve/reject exposed.
// - `Latch` — opens after `count` calls to `countDown()`; `wait()` rejects after a deadline.
// - `waitFor(condition)` — polls a condition until it holds or the deadline passes.
// - `Collector<T>` — gathers items pushed by callbacks; `waitFor(n)` resolves with the first n.
//
// Every wait has a deadline and its timeout error names what was awaited, so a hung test fails
// with a sentence instead of the runner's generic timeout. Timers are cleared on every path.
// The implementation lives here (in @rotor/core/testing) so the contract suites can use it without
// a dependency cycle; @rotor/testkit re-exports it.

export const DEFAULT_WAIT_MS = 5_000;

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
  /** True once resolve or reject was called. */
  readonly settled: boolean;
}

export function deferred<T = void>(): Deferred<T> {
  let resolveFn!: (value: T) => void;
  let rejectFn!: (err: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    resolveFn = resolve;
    rejectFn = reject;
  });
  const d = {
    promise,
    settled: false,
    resolve(value: T) {
      d.settled = true;
      resolveFn(value);
    },
    reject(err: unknown) {
      d.settled = true;
      rejectFn(err);
    },
  };
  return d;
}

/** The error every wait helper rejects with when its deadline passes. */
export class WaitTimeoutError extends Error {
  constructor(what: string, timeoutMs: number, detail?: string) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? ` (${detail})` : ''}`);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Races `promise` against a deadline. `detail` is evaluated at timeout and appended to the error
 * (e.g. "got 3 of 5 items").
 */
export async function withDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
  detail?: () => string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WaitTimeoutError(what, timeoutMs, detail?.())), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Opens once `countDown()` was called `count` times. */
export class Latch {
  #remaining: number;
  readonly #opened = deferred<void>();

  constructor(count = 1) {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`latch count must be a non-negative integer, got ${count}`);
    this.#remaining = count;
    if (count === 0) this.#opened.resolve();
  }

  get remaining(): number {
    return this.#remaining;
  }

  get isOpen(): boolean {
    return this.#remaining === 0;
  }

  countDown(): void {
    if (this.#remaining === 0) return;
    this.#remaining--;
    if (this.#remaining === 0) this.#opened.resolve();
  }

  /** Resolves when open; rejects with a WaitTimeoutError naming `what` after `timeoutMs`. */
  wait(timeoutMs = DEFAULT_WAIT_MS, what = 'latch'): Promise<void> {
    return withDeadline(this.#opened.promise, timeoutMs, what, () => `${this.#remaining} count(s) remaining`);
  }
}

export interface WaitForOptions {
  timeoutMs?: number;
  /** Poll interval; default 10 ms. */
  intervalMs?: number;
  /** What is awaited, for the timeout message; default: the condition's source text. */
  what?: string;
}

/**
 * Polls `condition` until it returns true (or a promise of true). Rejects with a WaitTimeoutError
 * after `timeoutMs`; an exception thrown by the condition rejects immediately.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  options: WaitForOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
  const intervalMs = options.intervalMs ?? 10;
  const what = options.what ?? describeCondition(condition);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    const left = deadline - Date.now();
    if (left <= 0) throw new WaitTimeoutError(what, timeoutMs);
    await new Promise<void>((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
  }
}

function describeCondition(condition: () => unknown): string {
  const src = condition.toString().replace(/\s+/g, ' ').trim();
  return src.length > 120 ? `${src.slice(0, 117)}...` : src;
}

interface CollectorWaiter<T> {
  count: number;
  done: Deferred<T[]>;
}

/**
 * Collects items from callbacks. `waitFor(n)` resolves with the first n items as soon as at least
 * n were pushed. `push` is bound, so it can be passed as a callback directly.
 */
export class Collector<T> {
  readonly items: T[] = [];
  readonly #waiters = new Set<CollectorWaiter<T>>();
  readonly #name: string;

  constructor(name = 'items') {
    this.#name = name;
  }

  get length(): number {
    return this.items.length;
  }

  readonly push = (item: T): void => {
    this.items.push(item);
    for (const w of this.#waiters) {
      if (this.items.length >= w.count) {
        this.#waiters.delete(w);
        w.done.resolve(this.items.slice(0, w.count));
      }
    }
  };

  async waitFor(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<T[]> {
    if (this.items.length >= count) return this.items.slice(0, count);
    const waiter: CollectorWaiter<T> = { count, done: deferred<T[]>() };
    this.#waiters.add(waiter);
    try {
      return await withDeadline(
        waiter.done.promise,
        timeoutMs,
        `${count} ${this.#name}`,
        () => `got ${this.items.length}`,
      );
    } finally {
      this.#waiters.delete(waiter);
    }
  }

  /** Waits for the first item satisfying `predicate` (already collected or future). */
  async waitForMatch(predicate: (item: T) => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
    const found = this.items.find(predicate);
    if (found !== undefined) return found;
    let seen = this.items.length;
    let hit: T | undefined;
    await waitFor(
      () => {
        for (; seen < this.items.length; seen++) {
          const item = this.items[seen] as T;
          if (predicate(item)) {
            hit = item;
            return true;
          }
        }
        return false;
      },
      { timeoutMs, intervalMs: 2, what: `${this.#name}: ${what}` },
    );
    return hit as T;
  }

  clear(): void {
    this.items.length = 0;
  }
}
