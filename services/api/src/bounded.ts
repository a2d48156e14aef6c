// Runs an async function over items with at most `limit` in flight, results in input order.
// Used for parallel batches and broadcasts so one request cannot start an unbounded number of
// concurrent store or broker operations. `fn` must not reject (callers turn failures into values).

export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.min(Math.max(1, limit), items.length); w++) workers.push(worker());
  await Promise.all(workers);
  return out;
}
