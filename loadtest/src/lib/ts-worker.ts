// Starts a worker thread running a TypeScript module. On Node 20 the tsx hooks registered by
// `--import tsx` do not reach worker threads, so the worker first registers tsx itself.
import { Worker } from 'node:worker_threads';

const TSX_API = import.meta.resolve('tsx/esm/api');

export function startTsWorker(moduleUrl: string, workerData: unknown): Worker {
  const boot =
    `import(${JSON.stringify(TSX_API)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl)}); })` +
    `.catch((err) => { process.nextTick(() => { throw err; }); });`;
  return new Worker(boot, { eval: true, workerData });
}

/** Next message from a worker that satisfies `accept`; rejects on worker error/exit or timeout. */
export function nextMessage<T>(worker: Worker, accept: (m: unknown) => m is T, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (!accept(m)) return;
      cleanup();
      resolve(m);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`worker exited (code ${code}) while waiting for ${what}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`worker: no ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    function cleanup() {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    }
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
