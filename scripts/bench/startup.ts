/**
 * Isolate startup, measured from outside: the time from starting a fresh workerd with
 * the bundle to the first successful GET /health (workerd boots, compiles and evaluates
 * the bundle's top level, then answers), against the same for a Worker whose whole
 * script is one `return new Response("ok")`. The difference is what the bundle itself
 * costs at startup: parsing, compiling and running its top-level code (Hono app, zod
 * schemas, OpenAPI routes). Median of a few fresh starts.
 */
import type { Bundle } from "./bundle.ts";
import { apiWorker, scriptWorker, startRuntime, type BenchBindings } from "./runtime.ts";
import type { V4WorkerOptions } from "miniflare";

export type StartupReport = {
  repetitions: number;
  bundle_ms: number[];
  empty_worker_ms: number[];
  bundle_median_ms: number;
  empty_worker_median_ms: number;
  isolate_startup_ms: number;
};

const EMPTY_WORKER = `export default { fetch() { return new Response("ok"); } };`;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timeToFirstAnswer(worker: V4WorkerOptions, name: string): Promise<number> {
  const started = performance.now();
  const runtime = await startRuntime([worker]);
  try {
    const url = new URL("/health", await runtime.url(name));
    for (;;) {
      const response = await fetch(url).catch(() => null);
      if (response?.ok) return performance.now() - started;
      if (response && response.status !== 503) throw new Error(`GET /health answered ${response.status}: ${await response.text()}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    await runtime.dispose();
  }
}

export async function measureStartup(bundle: Bundle, bindings: BenchBindings, repetitions = 3): Promise<StartupReport> {
  const bundleTimes: number[] = [];
  const emptyTimes: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    emptyTimes.push(await timeToFirstAnswer(scriptWorker("empty", EMPTY_WORKER), "empty"));
    bundleTimes.push(await timeToFirstAnswer(apiWorker(bundle, "api", bindings, { queueConsumers: false }), "api"));
  }
  return {
    repetitions,
    bundle_ms: bundleTimes,
    empty_worker_ms: emptyTimes,
    bundle_median_ms: median(bundleTimes),
    empty_worker_median_ms: median(emptyTimes),
    isolate_startup_ms: median(bundleTimes) - median(emptyTimes),
  };
}
