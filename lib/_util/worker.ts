/**
 * Independent simulations in parallel: one exported function run in a module worker.
 * @module
 */

/** What {@link callInWorker} runs: which export of which module, with what. */
export interface WorkerCall {
  /** URL of the module (usually `import.meta.url` of the caller). */
  module: string;
  /** Name of the exported function; it gets `args`, then a `report(progress)` callback. */
  fn: string;
  /** Arguments; structured-cloneable (plain data, no functions). */
  args: unknown[];
  /** Gets each value the function passes to `report`. */
  onProgress?: (progress: unknown) => void;
  /** Names the call in the error when it fails. */
  what: string;
}

/**
 * Runs `module[fn](...args, report)` in a fresh module worker and resolves
 * with its (awaited) result; the worker is terminated afterwards. A throw in
 * the worker (or failing to start it) rejects with an Error that names
 * `what` and the error's stack.
 * @example
 * ```ts
 * import { callInWorker } from "./worker.ts";
 * const src = "export const twice = (x, report) => { report(x); return 2 * x; };";
 * const module = `data:application/javascript,${encodeURIComponent(src)}`;
 * const seen: unknown[] = [];
 * const r = await callInWorker<number>({
 *   module, fn: "twice", args: [21], onProgress: (p) => seen.push(p), what: "twice",
 * });
 * console.assert(r === 42 && seen[0] === 21);
 * ```
 */
export function callInWorker<T>(call: WorkerCall): Promise<T> {
  const src = `import * as m from ${JSON.stringify(call.module)};
const fn = ${JSON.stringify(call.fn)};
self.onmessage = async (e) => {
  const report = (progress) => self.postMessage({ progress });
  try {
    self.postMessage({ result: await m[fn](...e.data, report) });
  } catch (err) {
    self.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err) });
  }
};`;
  const url = URL.createObjectURL(new Blob([src], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module" });
  return new Promise<T>((resolve, reject) => {
    worker.onmessage = (e) => {
      if ("result" in e.data) resolve(e.data.result);
      else if ("error" in e.data) {
        reject(new Error(`${call.what} failed in its worker: ${e.data.error}`));
      } else call.onProgress?.(e.data.progress);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(`${call.what} failed in its worker: ${e.message}`));
    };
    worker.postMessage(call.args);
  }).finally(() => {
    worker.terminate();
    URL.revokeObjectURL(url);
  });
}

/**
 * Runs `run` on every job, at most `lanes` at once, each lane taking the
 * next job in order as its previous one ends; resolves with the results in
 * job order. Lanes start at once (a synchronous `run` runs its first job
 * before this returns), so the caller can work meanwhile.
 * @example
 * ```ts
 * import { runPool } from "./worker.ts";
 * const started: number[] = [];
 * const out = await runPool([3, 1, 2], 2, async (x) => { started.push(x); return 10 * x; });
 * console.assert(out.join() === "30,10,20" && started.join() === "3,1,2");
 * ```
 */
export function runPool<J, R>(
  jobs: readonly J[],
  lanes: number,
  run: (job: J, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await run(jobs[i], i);
    }
  };
  const n = Math.max(1, Math.min(lanes, jobs.length));
  return Promise.all(Array.from({ length: n }, lane)).then(() => out);
}
