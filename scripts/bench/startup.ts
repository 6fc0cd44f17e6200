/**
 * Isolate startup of the API Worker (the one whose isolates answer requests; README
 * "Deployment"), measured from outside: the time from starting a fresh workerd with
 * the bundle to the first successful GET /health (workerd boots, sets up the bindings,
 * compiles and evaluates the bundle's top level, then answers), against the same Worker
 * configuration (same bindings, assets, queues) whose script is only
 * `return new Response("ok")`. The difference is what the bundle itself costs at
 * startup: parsing, compiling and running its top-level code (Hono app, zod schemas,
 * OpenAPI routes) and its first request. Median of a few fresh starts.
 */
import type { Bundle } from "./bundle.ts";
import { apiWorker, dispatcherStandIn, startRuntime, type BenchBindings } from "./runtime.ts";
import type { V4WorkerOptions } from "miniflare";

export type StartupReport = {
  repetitions: number;
  /** Fresh workerd with the bundle: until the runtime reports ready (modules evaluated), and until the first /health answer. */
  bundle_ready_ms: number[];
  bundle_ms: number[];
  empty_worker_ready_ms: number[];
  empty_worker_ms: number[];
  bundle_median_ms: number;
  empty_worker_median_ms: number;
  /** Bundle minus empty Worker, medians: to ready (compile + top-level evaluation) and to the first answer (plus the first request). */
  isolate_ready_ms: number;
  isolate_startup_ms: number;
};

const EMPTY_WORKER = `export default { fetch() { return new Response("ok"); } };`;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timeToFirstAnswer(worker: V4WorkerOptions, name: string): Promise<{ ready: number; answered: number }> {
  const started = performance.now();
  // The API binds the background Worker's WebhookDispatcher: a stand-in of a few lines takes
  // its place in both runs, so the difference is the API bundle's alone.
  const runtime = await startRuntime([worker, dispatcherStandIn()]);
  const ready = performance.now() - started;
  try {
    const url = new URL("/health", await runtime.url(name));
    for (;;) {
      const response = await fetch(url).catch(() => null);
      if (response?.ok) return { ready, answered: performance.now() - started };
      if (response && response.status !== 503) throw new Error(`GET /health answered ${response.status}: ${await response.text()}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    await runtime.dispose();
  }
}

export async function measureStartup(bundle: Bundle, bindings: BenchBindings, repetitions = 3): Promise<StartupReport> {
  const bundleTimes: { ready: number; answered: number }[] = [];
  const emptyTimes: { ready: number; answered: number }[] = [];
  for (let i = 0; i < repetitions; i++) {
    const worker = apiWorker(bundle, "api", bindings);
    const empty = { ...worker, scriptPath: undefined, modulesRoot: undefined, script: EMPTY_WORKER } as V4WorkerOptions;
    emptyTimes.push(await timeToFirstAnswer(empty, "api"));
    bundleTimes.push(await timeToFirstAnswer(worker, "api"));
  }
  const of = (times: { ready: number; answered: number }[], key: "ready" | "answered") => times.map((time) => time[key]);
  return {
    repetitions,
    bundle_ready_ms: of(bundleTimes, "ready"),
    bundle_ms: of(bundleTimes, "answered"),
    empty_worker_ready_ms: of(emptyTimes, "ready"),
    empty_worker_ms: of(emptyTimes, "answered"),
    bundle_median_ms: median(of(bundleTimes, "answered")),
    empty_worker_median_ms: median(of(emptyTimes, "answered")),
    isolate_ready_ms: median(of(bundleTimes, "ready")) - median(of(emptyTimes, "ready")),
    isolate_startup_ms: median(of(bundleTimes, "answered")) - median(of(emptyTimes, "answered")),
  };
}
